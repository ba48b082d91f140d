"""Every module the Lambda bundle ships imports on the interpreter running the tests: the project's
3.11 (Glue 5.1, the local poller) and, under `make test`, the Lambda runtime's 3.13. An import of a
module Python has since removed, or syntax it does not know, fails here before it fails in AWS."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
BUNDLED_PACKAGES = ("lambdas", "aml_contract")  # stacks.assets.LAMBDA_PACKAGES, without importing CDK


def bundled_modules() -> list[str]:
    modules = []
    for package in BUNDLED_PACKAGES:
        modules.append(package)
        modules += [info.name for info in pkgutil.walk_packages([str(REPO_ROOT / package)], f"{package}.")]
    return modules


def test_the_bundle_has_modules_to_import():
    assert {"lambdas.realtime_rules.handler", "aml_contract.rules"} <= set(bundled_modules())


@pytest.mark.parametrize("module", bundled_modules())
def test_bundled_module_imports(module):
    importlib.import_module(module)
