"""Synthesize the CDK app once per session (with the five cdk-nag packs, as `cdk synth` does)
and hand every test the templates."""
from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def cdk_context(**aml_overrides) -> dict:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context["aml"] = {**context["aml"], **aml_overrides}
    return context


def load_app_module():
    """app.py is a script at the repository root, not a package module."""
    spec = importlib.util.spec_from_file_location("aml_cdk_app", REPO_ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def built_reference() -> Path:
    """The reference layout the app builds at synth time (for tests that build a stack alone)."""
    return load_app_module().reference_folder()


@dataclass
class Synth:
    outdir: Path
    templates: dict[str, dict]  # concern -> template
    stacks: dict

    def template(self, concern: str):
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[concern])

    def resources(self, type_: str) -> list[tuple[str, str, dict]]:
        """(concern, logical id, resource) of every resource of that type in every stack."""
        return [(concern, lid, res) for concern, t in self.templates.items()
                for lid, res in t.get("Resources", {}).items() if res["Type"] == type_]


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Synth:
    import aws_cdk as cdk

    app_module = load_app_module()
    from stacks import nag_suppressions
    from stacks.settings import Settings

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir), context=cdk_context())
    stacks = app_module.build(app, Settings.from_node(app.node))
    nag_suppressions.register(app)
    assembly = app.synth()  # raises if any pack reports an unacknowledged finding
    templates = {concern: assembly.get_stack_by_name(stack.stack_name).template
                 for concern, stack in stacks.items()}
    return Synth(outdir=outdir, templates=templates, stacks=stacks)
