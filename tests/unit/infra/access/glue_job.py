"""The curation job's calls, recorded by its storage layer: two runs (a full load with a refused
row, then an incremental CDC run over the state the first left) on local disk, every access
translated to the S3 URI it has on Glue (from the job's DefaultArguments in the template) and to
the S3 calls EMRFS makes for it; plus the one boto3 call of the entry script (the secret)."""
from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path

from aml_contract import glue_job as interface
from glue_jobs.curation import storage
from infra.access.actions import Call, sse_kms
from infra.access.recording import recorded_calls
from infra.access.templates import REGION, Templates

SOURCE = "Glue job storage layer (recorded)"
REPRESENTATIVE_OBJECT = "part-00000-0000.snappy.parquet"  # a file Spark writes inside a folder


def _fixtures():
    """The DMS-layout builders of the Glue tests (a folder of test helpers, not a package)."""
    path = Path(__file__).resolve().parents[2] / "glue" / "glue_dms_fixtures.py"
    spec = importlib.util.spec_from_file_location("glue_dms_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("glue_dms_fixtures", module)
    spec.loader.exec_module(module)
    return module


def job(templates: Templates) -> tuple[dict[str, str], str, tuple]:
    """(resolved DefaultArguments, role name, the SSE-KMS headers its security configuration makes
    EMRFS send on uploads) of the curation job."""
    for concern, _, res in templates.resources("AWS::Glue::Job"):
        props = templates.resolve(concern, res["Properties"])
        role = next(name for name, r in templates.roles.items() if r.arn == props["Role"])
        headers = ()
        for _, _, config in templates.resources("AWS::Glue::SecurityConfiguration"):
            config = templates.resolve(concern, config["Properties"])
            s3 = config["EncryptionConfiguration"]["S3Encryptions"][0]
            if config["Name"] == props["SecurityConfiguration"] and s3["S3EncryptionMode"] == "SSE-KMS":
                headers = sse_kms(s3["KmsKeyArn"])
        return props["DefaultArguments"], role, headers
    raise LookupError("no Glue job")


def _s3_calls(kind: str, uri: str) -> list[tuple[str, dict]]:
    """The S3 calls EMRFS makes for one storage access (a status is a HEAD of the key, then a
    one-key listing of the key as a folder; a rename is copy + delete; a Spark write lists and
    clears the folder, then writes part files through `_temporary`, large ones as multipart uploads)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    key = key.rstrip("/")
    folder = f"{key}/" if key else ""
    is_file = key.endswith((".parquet", ".json", ".gz"))  # .gz: a reference dataset's rows
    inside = f"{folder}{REPRESENTATIVE_OBJECT}"

    def get(k):
        return ("GetObject", {"Bucket": bucket, "Key": k})

    def put(k):
        return ("PutObject", {"Bucket": bucket, "Key": k})

    def delete(k):
        return ("DeleteObject", {"Bucket": bucket, "Key": k})

    listing = ("ListObjectsV2", {"Bucket": bucket, "Prefix": folder})
    if kind == storage.STAT:  # the bucket's root always exists: no call
        return [get(key), listing] if key else []
    if kind == storage.LIST:
        return [listing]
    if kind == storage.READ:
        return [get(key)]
    if kind == storage.WRITE:
        return [put(key + "/" if uri.endswith("/") else key)]
    if kind == storage.DELETE:
        return [listing, delete(key), delete(inside)]
    if kind == storage.SPARK_READ:
        return [get(key)] if is_file else [listing, get(inside)]
    if kind == storage.SPARK_WRITE:
        temporary = f"{folder}_temporary/0/{REPRESENTATIVE_OBJECT}"
        return [listing, delete(inside), put(temporary), get(temporary), put(inside), delete(temporary),
                ("CreateMultipartUpload", {"Bucket": bucket, "Key": inside}), put(f"{folder}_SUCCESS")]
    raise KeyError(kind)


class PathMap:
    """Local folder -> the S3 URI the same argument has on Glue (longest local prefix first)."""

    def __init__(self, local: dict[str, Path], on_glue: dict[str, str]):
        self._pairs = sorted(((str(local[name].resolve()), on_glue[f"--{name}"].rstrip("/")) for name in local),
                             key=lambda pair: -len(pair[0]))

    def uri(self, path: str) -> str:
        plain = path.removeprefix("file://").removeprefix("file:")
        for local, remote in self._pairs:
            if plain == local or plain.startswith(local + "/"):
                return remote + plain[len(local):] + ("/" if path.endswith("/") else "")
        raise ValueError(f"the job touched {path}, outside its arguments' folders")


def calls(templates: Templates, spark, tmp: Path) -> list[Call]:
    arguments, role, headers = job(templates)
    fx = _fixtures()
    zones = fx.make_zones(tmp)
    bank = fx.Bank()
    zones.raw.load("customers", [fx.change(bank.customer("C1"), "I", fx.T0)])
    zones.raw.load("accounts", [fx.change(bank.account("A1", "C1"), "I", fx.T0)])
    zones.raw.load("transactions", [
        fx.change(bank.transaction("T1", fx.T0, "A1", "X9"), "I", fx.T0),
        fx.change(bank.transaction("T2", fx.T0, "A1", "X9", amount="-5.00"), "I", fx.T0)])  # refused
    accesses: list[tuple[str, str]] = []

    def observe(kind: str, path: str) -> None:
        accesses.append((kind, path))

    from aml_contract.pseudonym import key_from_env
    from glue_jobs.curation.job import run_curation

    def run() -> None:
        run_curation(spark, str(zones.raw.root), str(zones.curated), str(zones.quarantine), key_from_env(),
                     now=fx.NOW, observe=observe)

    run()
    later = fx.T0 + timedelta(days=1)
    zones.raw.cdc("transactions", [fx.change(bank.transaction("T1", fx.T0, "A1", "X9", amount="99.00"), "U", later)],
                  "2024/03/02", "20240302-090000000000-0000000000000002")
    run()
    paths = PathMap({interface.RAW_PATH: zones.raw.root, interface.CURATED_PATH: zones.curated,
                     interface.QUARANTINE_PATH: zones.quarantine}, arguments)
    found = [Call(role, "s3", op, params, SOURCE, headers=headers)
             for kind, path in accesses for op, params in _s3_calls(kind, paths.uri(path))]
    return found + _secret_call(arguments, role)


def _secret_call(arguments: dict[str, str], role: str) -> list[Call]:
    """The entry script reads the pseudonymisation key from the secret its argument names."""
    import json

    import boto3

    from glue_jobs.curate_transactions import pseudonymization_key

    secret_id = arguments[f"--{interface.PSEUDONYMIZATION_SECRET_ID}"]
    with recorded_calls() as made:
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=secret_id, SecretString=json.dumps({"key": "k" * 64}))
        made.clear()
        pseudonymization_key(secret_id)
    return [Call(role, m.service, m.operation, m.params, SOURCE) for m in made]
