"""Code assets built at synth time without Docker: the Lambda bundle (its packages plus the wheels
of requirements-lambda.txt for the Lambda's Python and architecture; the rules Lambda and the daily
pipeline's functions share it, the latter with the report generator, its plotting library
(requirements-lambda-pipeline.txt) and the scenario and report queries beside it) and the Glue
job's extra Python files (a deterministic zip of the transforms plus the contract)."""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from stacks import lambda_runtime

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_PACKAGES = ("lambdas", "aml_contract")
# The daily pipeline's plan handler renders the scenario and report queries through
# aml_contract.named_queries, whose QUERIES_DIR is <bundle>/athena_queries (beside the aml_contract
# package); its report handler draws the HTML report with aml_report (and plotly).
PIPELINE_FOLDERS = (*LAMBDA_PACKAGES, "aml_report", "athena_queries")
LAMBDA_REQUIREMENTS = REPO_ROOT / "requirements-lambda.txt"
PIPELINE_REQUIREMENTS = (LAMBDA_REQUIREMENTS, REPO_ROOT / "requirements-lambda-pipeline.txt")
# Importable as the entry script imports them (glue_jobs.curation..., aml_contract...).
GLUE_PACKAGES = ("glue_jobs/__init__.py", "glue_jobs/curation", "aml_contract")
GLUE_ENTRY_SCRIPT = REPO_ROOT / "glue_jobs" / "curate_transactions.py"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "tests", "ruff.toml")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: same sources, same asset hash


def require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"asset source {path} is missing (it belongs to another part of the project)")
    return path


# Installed wheels kept between syntheses, one folder per requirements files and pip target (the
# folder's name is a hash of both, so clones and branches share it safely): pip took about 7 s per
# bundle, twice a synthesis, for the same files every time, and a fresh clone's first synthesis
# about 15 s more once the pipeline bundle carried plotly. Outside the clone, like the wheelhouse
# of `make setup`; AML_LAMBDA_WHEEL_CACHE moves it.
WHEEL_CACHE = Path(os.environ.get("AML_LAMBDA_WHEEL_CACHE") or Path(
    os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aml-platform" / "lambda-wheels")


def install_lambda_wheels(target: Path, requirements: tuple[Path, ...] = (LAMBDA_REQUIREMENTS,)) -> None:
    """pip, without Docker, installs the requirements files (requirements-lambda.txt by default) as
    wheels built for the Lambda's interpreter and architecture (compiled ones included:
    pydantic_core), whatever this machine is. --only-binary: never a local build, which would
    compile for this machine instead. The installed files are copied from WHEEL_CACHE when the same
    requirements were installed before."""
    shutil.copytree(_installed_wheels(requirements), target, dirs_exist_ok=True)


def _installed_wheels(requirements: tuple[Path, ...]) -> Path:
    args = ["--no-compile", *lambda_runtime.PIP_TARGET_ARGS]
    key = hashlib.sha256("\0".join([*args, *(require(r).read_text() for r in requirements)]).encode()).hexdigest()
    folder = WHEEL_CACHE / key[:16]
    if folder.is_dir():
        return folder
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=WHEEL_CACHE))
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args,
                        "--target", str(staging), *(a for r in requirements for a in ("--requirement", str(r)))],
                       check=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # console scripts and data files (plotly's JupyterLab extension under share/): of no use in the function
    for unused in ("bin", "share"):
        shutil.rmtree(staging / unused, ignore_errors=True)
    try:
        os.rename(staging, folder)  # atomic: a concurrent synthesis sees all of it or none
    except OSError:  # another synthesis got there first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


@jsii.implements(ILocalBundling)
class _LambdaBundle:
    """The handler package and the contract, copied, beside the wheels of the requirements files.
    Powertools (and the X-Ray SDK) come from the AWS-managed layer, boto3 from the runtime."""

    def __init__(self, folders: tuple[str, ...] = LAMBDA_PACKAGES,
                 requirements: tuple[Path, ...] = (LAMBDA_REQUIREMENTS,)) -> None:
        self.folders, self.requirements = folders, requirements

    def try_bundle(self, output_dir: str, *, image, **_kwargs) -> bool:
        install_lambda_wheels(Path(output_dir), self.requirements)
        for package in self.folders:
            shutil.copytree(require(REPO_ROOT / package), Path(output_dir) / package, ignore=_IGNORE,
                            dirs_exist_ok=True)
        return True


def _lambda_code(folders: tuple[str, ...], requirements: tuple[Path, ...] = (LAMBDA_REQUIREMENTS,)) -> lambda_.Code:
    # The hash is taken from the bundled output, so a change in aml_contract or in a pinned wheel
    # redeploys the Lambda. The Docker image is never pulled: local bundling always succeeds.
    image = DockerImage.from_registry(f"public.ecr.aws/sam/build-python{lambda_runtime.PYTHON_VERSION}")
    return lambda_.Code.from_asset(
        str(REPO_ROOT / "lambdas"), asset_hash_type=AssetHashType.OUTPUT,
        # CDK caches a staged asset by its source and bundling options, not by the local bundler:
        # the folders are named in the options so that each bundle is staged on its own.
        bundling=BundlingOptions(image=image, local=_LambdaBundle(folders, requirements), environment={
            "AML_BUNDLE": ",".join(folders), "AML_REQUIREMENTS": ",".join(r.name for r in requirements)}))


def rules_lambda_code() -> lambda_.Code:
    require(REPO_ROOT / "lambdas" / "realtime_rules" / "handler.py")
    return _lambda_code(LAMBDA_PACKAGES)


def pipeline_lambda_code() -> lambda_.Code:
    """The pipeline functions' bundle: the rules Lambda's packages and wheels plus the report
    generator (aml_report), plotly's wheels and athena_queries/. One Code serves the functions of a
    stack (one asset, bundled once)."""
    require(REPO_ROOT / "lambdas" / "daily_pipeline" / "handler.py")
    require(REPO_ROOT / "athena_queries")
    return _lambda_code(PIPELINE_FOLDERS, PIPELINE_REQUIREMENTS)


def glue_extra_python_zip() -> Path:
    """glue_jobs.curation and aml_contract (with their package paths) in one zip."""
    work = tempfile.mkdtemp(prefix="aml-glue-")
    # CDK copies the zip into its output while the app synthesises; the original goes at exit.
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    out = Path(work) / "aml_glue_libs.zip"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for entry in GLUE_PACKAGES:
            root = require(REPO_ROOT / entry)
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for file in files:
                rel = file.relative_to(REPO_ROOT)
                if "__pycache__" in rel.parts or file.suffix == ".pyc" or "tests" in rel.parts:
                    continue
                info = zipfile.ZipInfo(str(rel), date_time=_ZIP_EPOCH)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, file.read_bytes())
    return out
