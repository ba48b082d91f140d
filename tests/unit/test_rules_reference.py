"""docs/rules.md is generated from the rule parameters and the named-query headers, and current."""
import os
from pathlib import Path

from aml import rules_reference
from aml_contract import rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_the_rule_reference_is_current():
    generated = rules_reference.render()
    if os.environ.get("AML_WRITE_RULES_REFERENCE"):
        DOC.write_text(generated)
    assert DOC.read_text() == generated, "docs/rules.md is stale: rerun with AML_WRITE_RULES_REFERENCE=1"


def test_every_rule_and_parameter_is_in_the_reference():
    text = rules_reference.render()
    for rule_id, rule in rules.load().rules.items():
        section = text.split(f"### `{rule_id}`", 1)[1].split("\n### ", 1)[0]
        assert rule.description in section
        for name in rule.params:
            assert f"`{name}` =" in section, f"{rule_id}.{name}"
