"""The rules Lambda's Python is named in four places that must agree: the synthesized function's
runtime, the layer flavour, ruff's target for lambdas/ and the interpreter `make test` runs the
Lambda's tests on (the Makefile's LAMBDA_PYTHON)."""
from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from pathlib import Path

from stacks import assets, lambda_runtime

REPO_ROOT = Path(__file__).resolve().parents[3]


def rules_function(synth) -> dict:
    functions = synth.template("streaming").find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": "aml-dev-realtime-rules"}})
    (function,) = functions.values()
    return function["Properties"]


def makefile_lambda_python() -> str:
    (version,) = re.findall(r"^LAMBDA_PYTHON\s*:=\s*(\S+)\s*$", (REPO_ROOT / "Makefile").read_text(), re.M)
    return version


def test_runtime_static_check_and_test_interpreter_agree(synth):
    props = rules_function(synth)
    tested = makefile_lambda_python()
    assert props["Runtime"] == f"python{tested}"
    ruff = tomllib.loads((REPO_ROOT / "lambdas" / "ruff.toml").read_text())
    assert ruff["target-version"] == f"py{tested.replace('.', '')}"
    assert tested == lambda_runtime.PYTHON_VERSION


def test_layer_and_wheels_match_the_runtime_and_architecture(synth):
    props = rules_function(synth)
    (arch,) = props["Architectures"]
    version = props["Runtime"].removeprefix("python").replace(".", "")
    assert f"AWSLambdaPowertoolsPythonV3-python{version}-{arch}:" in json.dumps(props["Layers"])
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[arch]
    assert lambda_runtime.WHEEL_PLATFORM.endswith(f"_{machine}")


def test_make_test_runs_the_lambda_tests_on_that_interpreter():
    recipe = (REPO_ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/lambda_tests.sh $(LAMBDA_PYTHON)" in recipe


def test_the_import_check_covers_every_bundled_package():
    """tests/unit/rules/test_bundle_imports.py runs without CDK (on 3.13 too), so it names the
    bundled packages itself; they must be the ones stacks/assets.py bundles."""
    path = REPO_ROOT / "tests" / "unit" / "rules" / "test_bundle_imports.py"
    spec = importlib.util.spec_from_file_location("bundle_imports_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.BUNDLED_PACKAGES == assets.LAMBDA_PACKAGES
