"""The app as a whole: one stack per concern, the outputs the local runtime reads, the wiring
and the properties every stack shares."""
from __future__ import annotations

import dataclasses
import json

from aml_contract import names

CONCERNS = {"network", "data-lake", "database", "etl", "streaming", "replication", "analytics", "monitoring",
            "pipeline"}


def test_one_stack_per_concern_named_for_discovery(synth):
    assert set(synth.stacks) == CONCERNS
    assert {s.stack_name for s in synth.stacks.values()} == {f"aml-dev-{c}" for c in CONCERNS}


def test_every_output_the_local_runtime_needs_is_declared(synth):
    outputs = {key for t in synth.templates.values() for key in t.get("Outputs", {})}
    assert set(names.STACK_OUTPUTS) <= outputs


def test_keys_rotate_and_are_retained(synth):
    for concern, lid, key in synth.resources("AWS::KMS::Key"):
        assert key["Properties"]["EnableKeyRotation"] is True, (concern, lid)
        assert key["DeletionPolicy"] == "Retain", (concern, lid)


def test_every_published_name_comes_from_the_names_table(synth):
    """Each RESOURCES output key is declared by exactly one stack, and a resource named from the
    table carries aml-<env>-<suffix> in the stack that publishes it."""
    for field, (suffix, key, _) in names.RESOURCES.items():
        if key is None:
            continue
        declaring = [c for c, t in synth.templates.items() if key in t.get("Outputs", {})]
        assert len(declaring) == 1, (field, declaring)
        if suffix is not None:
            text = json.dumps(synth.templates[declaring[0]])
            assert f'"aml-dev-{suffix}' in text, (field, suffix)


def test_streaming_and_analytics_need_only_the_lake(synth):
    """The catalog sits beside the lake: neither the Lambda branch nor the analysts depend on ETL."""
    def depends_on(concern: str) -> set[str]:
        return {d.stack_name.removeprefix("aml-dev-") for d in synth.stacks[concern].dependencies}

    assert depends_on("streaming") == {"network", "data-lake"}
    assert depends_on("analytics") == {"data-lake"}
    assert "etl" not in depends_on("replication")


def test_the_local_runtime_knows_the_tables_local_resources():
    from aml.local.resources import LocalResources

    fields = {f.name for f in dataclasses.fields(LocalResources)} - {"env_name", "source"}
    assert fields == {field for field, resource in names.RESOURCES.items() if resource.local}


def test_the_synth_warns_of_nothing(synth):
    """Issue 28, a quiet `make synth`: no construct warning a user would learn to ignore (each one
    that does not apply is acknowledged where it is raised, with its reason)."""
    warnings = [(path, entry["data"]) for f in synth.outdir.glob("*.metadata.json")
                for path, entries in json.loads(f.read_text()).items()
                for entry in entries if entry["type"] == "aws:cdk:warning"]
    assert warnings == []
