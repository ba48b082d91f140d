"""The local poller's mapping settings come from the synthesized template."""
from __future__ import annotations

from aml.stream.mapping import MappingSettings
from infra.conftest import cdk_context
from stacks.settings import Settings


def test_poller_reads_the_rules_mapping_from_the_template(synth):
    [(concern, _, _)] = synth.resources("AWS::Lambda::EventSourceMapping")
    mapping = MappingSettings.from_template(synth.templates[concern])
    cfg = Settings.from_dict(cdk_context()["aml"]).streaming  # what the session's synth used
    assert mapping == MappingSettings(
        batch_size=cfg.batch_size, bisect_on_error=True, max_retry_attempts=cfg.max_retries,
        max_record_age_seconds=cfg.max_record_age_seconds, report_batch_item_failures=True,
        on_failure_destination=True)


def test_projection_starts_on_the_day_the_glue_job_quarantines_before(synth):
    from aml_contract.schema import PROJECTION_START_DATE

    ranges = {res["Properties"]["TableInput"]["Parameters"]["projection.dt.range"]
              for _, _, res in synth.resources("AWS::Glue::Table")
              if "projection.dt.range" in res["Properties"]["TableInput"].get("Parameters", {})}
    assert ranges == {f"{PROJECTION_START_DATE},NOW"}
