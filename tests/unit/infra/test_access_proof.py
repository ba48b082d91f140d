"""The access proof: every AWS call the platform makes, recorded where our code makes it or declared
where a service makes it for us, is allowed by the policies of the synthesized templates (identity,
bucket, key and secret policies, evaluated by @cloud-copilot/iam-simulate); every granted action
no call uses is justified; and exactly the listed workloads can read PII. The report of what was
checked is docs/iam-proof.md (regenerate with AML_WRITE_IAM_REPORT=1)."""
from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from aml_contract import glue_job as interface
from aml_contract import names, pii_access, reference
from infra.access import glue_job, pipeline, proof, replicator, report, rules_lambda, services
from infra.access.actions import Call
from infra.access.justified import JUSTIFIED
from infra.access.templates import Templates

pytestmark = pytest.mark.slow
REPORT = Path(__file__).resolve().parents[3] / "docs" / "iam-proof.md"


@pytest.fixture(scope="session")
def templates(synth) -> Templates:
    return Templates(synth.templates)


@pytest.fixture(scope="session")
def calls(templates, spark, tmp_path_factory) -> list[Call]:
    return [*rules_lambda.calls(templates), *replicator.calls(templates),
            *glue_job.calls(templates, spark, tmp_path_factory.mktemp("glue-access")), *services.calls(templates),
            *pipeline.calls(templates)]


@pytest.fixture(scope="session")
def answers(templates, calls):
    return proof.evaluate(templates, calls)


def _denials(answers) -> list[str]:
    return [f"{a.request.call.role}: {a.request.call.describe()} ({a.request.call.source}) needs "
            f"{a.request.describe()}: {a.decision} {a.errors or ''}".strip()
            for a in answers if not a.allowed]


def test_every_call_is_allowed(answers):
    assert _denials(answers) == []


def test_every_covered_role_is_exercised_by_every_kind_of_source(templates, calls):
    """The proof covers each role we grant with calls, recorded from our code where it runs."""
    covered = {c.role for c in calls}
    assert {r for r in templates.roles if proof.in_scope(r)} <= covered
    sources = {c.source for c in calls}
    assert {rules_lambda.SOURCE, replicator.SOURCE, glue_job.SOURCE} <= sources
    # the bug that motivated the proof: the job's state is written, and read back
    state = [c for c in calls if c.source == glue_job.SOURCE
             and c.params.get("Key", "").startswith(f"{interface.STATE_PREFIX}/")]
    assert {c.operation for c in state} >= {"PutObject", "GetObject"}
    # the segment statistics it derives are published, the manifest with them
    published = {c.params.get("Key") for c in calls if c.source == glue_job.SOURCE and c.operation == "PutObject"}
    assert {reference.data_key("segment_amounts"), reference.manifest_key("segment_amounts")} <= published


def _without_statement(templates: Templates, role_prefix: str, sid: str) -> Templates:
    raw = copy.deepcopy(templates.raw)
    removed = 0
    for template in raw.values():
        for lid, res in template["Resources"].items():
            if res["Type"] == "AWS::IAM::Policy" and lid.startswith(role_prefix):
                statements = res["Properties"]["PolicyDocument"]["Statement"]
                kept = [s for s in statements if s.get("Sid") != sid]
                removed += len(statements) - len(kept)
                res["Properties"]["PolicyDocument"]["Statement"] = kept
    assert removed == 1
    return Templates(raw)


def test_the_proof_fails_when_a_needed_statement_is_removed(templates, calls):
    """Without the job's curated-zone statement (the state under _job_state/ included), its
    writes are denied, and the failure names the call and the role."""
    mutated = _without_statement(templates, "JobPolicy", "WriteCuratedAndState")
    denials = _denials(proof.evaluate(mutated, [c for c in calls if c.source == glue_job.SOURCE]))
    job_role = glue_job.job(templates)[1]
    assert any(d.startswith(f"{job_role}: s3:PutObject") and f"/{interface.STATE_PREFIX}/" in d for d in denials), denials


def test_the_proof_fails_when_the_state_machine_loses_its_athena_statement(templates, calls):
    """Without the workgroup statement the daily pipeline's .sync Athena step is denied."""
    mutated = _without_statement(templates, "StateMachineRoleDefaultPolicy", "RunQueriesInWorkgroup")
    denials = _denials(proof.evaluate(mutated, [c for c in calls if c.source == pipeline.STEP_FUNCTIONS]))
    assert any(": athena:StartQueryExecution" in d for d in denials), denials


def test_every_unused_grant_is_justified(templates, answers):
    unused = proof.unused_grants(templates, answers)
    unjustified = [u for u in unused if report.justification(u, JUSTIFIED) is None]
    assert unjustified == [], "granted but used by no call: remove the grant or justify it in " \
        "tests/unit/infra/access/justified.py:\n" + "\n".join(f"{u.role} {u.sid}: {u.kind} {u.item}" for u in unjustified)
    stale = [key for key in JUSTIFIED if not any(report.justification(u, {key: ""}) is not None for u in unused)]
    assert stale == [], f"justifications no unused grant needs: {stale}"


def _pii_readers(templates: Templates) -> dict[str, set[str]]:
    """Which roles the policies let read each kind of PII, by their workload tag (or role name)."""
    probes = services.pii_probes(templates)
    readers: dict[str, set[str]] = {}
    for kind, reads in probes.items():
        calls = [Call(role, c.service, c.operation, c.params, c.source) for role in templates.roles for c in reads]
        answers = proof.evaluate(templates, calls)
        can_read = {a.request.call.role for a in answers
                    if a.allowed and a.request.action == f"{a.request.call.service}:{a.request.call.operation}"}
        readers[kind] = {templates.roles[r].tags.get(pii_access.WORKLOAD_TAG, r) for r in can_read}
    return readers


def test_exactly_the_listed_workloads_can_read_pii(templates):
    assert _pii_readers(templates) == {kind: set(who) for kind, who in pii_access.PII_READERS.items()}


def test_the_report_in_docs_is_current(templates, calls, answers):
    generated = report.render(templates, calls, answers, proof.unused_grants(templates, answers), JUSTIFIED,
                              _pii_readers(templates))
    if os.environ.get("AML_WRITE_IAM_REPORT"):
        REPORT.write_text(report.replace_generated(REPORT.read_text(), generated))
    assert report.generated_part(REPORT.read_text()) == generated, \
        "docs/iam-proof.md is stale: rerun with AML_WRITE_IAM_REPORT=1"


def test_the_rules_lambda_reads_reference_data_only(templates):
    """Its curated-bucket grant is the reference data: it may read reference/ objects and the
    segment statistics, not the curated tables (pseudonymised history) nor the rest of
    statistics/, and it writes no reference data."""
    concern, props = rules_lambda.function(templates)
    role = rules_lambda.role_of(templates, props["Role"])
    bucket = str(props["Environment"]["Variables"][names.RULES_LAMBDA_ENV["curated_bucket"]])
    probes = {
        ("GetObject", reference.data_key("fx_rates")): True,
        ("GetObject", reference.manifest_key("fatf_lists")): True,
        ("GetObject", reference.data_key("segment_amounts")): True,
        ("GetObject", reference.manifest_key("segment_amounts")): True,
        ("GetObject", "statistics/other/_manifest.json"): False,
        ("PutObject", reference.data_key("segment_amounts")): False,
        ("GetObject", "transactions/dt=2025-11-03/part-0.parquet"): False,
        ("GetObject", f"{interface.STATE_PREFIX}/processed.json"): False,
        ("PutObject", reference.data_key("currencies")): False,
        ("DeleteObject", reference.manifest_key("currencies")): False,
    }
    calls = [Call(role, "s3", op, {"Bucket": bucket, "Key": key}, "reference probe") for op, key in probes]
    allowed: dict[tuple[str, str], bool] = {}
    for answer in proof.evaluate(templates, calls):
        probe = (answer.request.call.operation, answer.request.call.params["Key"])
        allowed[probe] = allowed.get(probe, True) and answer.allowed
    assert allowed == probes
