"""The handler and its reference data (issue 19), on moto: read from the bucket named by
REFERENCE_BUCKET, counted per batch (AmountBaseUnknown, AmountBaseDerived), stale datasets metered
but never refused, a missing dataset an error of the function (the batch is retried, nothing
dead-lettered)."""
from datetime import date

import pytest
from lambda_harness import (
    REFERENCE_BUCKET,
    Context,
    _drain,
    _event,
    _row,
    metric_documents,
    reference_objects,
)

from aml.reference import publish
from aml_contract import names, reference
from aml_contract.reference import ReferenceDataError


def _metrics(capsys) -> dict[str, float]:
    [document] = metric_documents(capsys.readouterr().out)
    names = [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return {n: sum(document[n]) if isinstance(document[n], list) else document[n] for n in names}


def _state(env, account="ACC"):
    item = env["ddb"].get_item(TableName="state", Key={"pk": {"S": account}, "sk": {"S": "window-summary"}})
    return item.get("Item", {}).get("summary", {}).get("S", "")


def test_amounts_derived_and_unknown_are_counted_per_batch(lambda_env, capsys):
    rows = [_row("usd", 1), {**_row("eur", 1), "currency": "EUR", "amount_base": None},
            {**_row("btc", 1), "currency": "BTC", "amount_base": None},
            {**_row("eth", 2), "currency": "ETH", "amount_base": None}]
    capsys.readouterr()
    assert lambda_env["handler"].lambda_handler(_event(rows), Context()) == {"batchItemFailures": []}
    counted = _metrics(capsys)
    assert counted["Transactions"] == 4 and counted["AmountBaseDerived"] == 1 and counted["AmountBaseUnknown"] == 2
    assert all(f'"{t}":[' in _state(lambda_env) for t in ("usd", "eur", "btc", "eth"))  # all evaluated


def test_an_unknown_currency_is_dead_lettered_with_its_reason(lambda_env):
    event = _event([{**_row("bad", 1), "currency": "QQQ"}, _row("ok", 1)])
    assert lambda_env["handler"].lambda_handler(event, Context()) == {"batchItemFailures": []}
    [dead] = _drain(lambda_env["sqs"], lambda_env["dlq"])
    assert "'QQQ' is not a code of the currencies reference dataset" in dead["reason"]
    assert dead["sequence_number"] == "1"


def _republish(s3, dataset: str, **manifest_changes) -> None:
    """Publish `dataset` again with its manifest changed (same rows)."""
    objects = reference_objects()
    manifest, rows = reference.read_dataset(objects.__getitem__, dataset)
    fields = {k: date.fromisoformat(getattr(manifest, k)) for k in ("coverage_start", "coverage_end", "review_by")}
    encoded = reference.encode(dataset, rows, version=manifest.version, source=manifest.source,
                               **{**fields, **manifest_changes})
    publish.to_s3(s3, REFERENCE_BUCKET, encoded)


def test_stale_reference_data_is_metered_and_logged_and_records_still_processed(lambda_env, capsys, caplog):
    _republish(lambda_env["s3"], "currencies", review_by=date(2000, 1, 1))
    capsys.readouterr()
    assert lambda_env["handler"].lambda_handler(_event([_row("t1", 1)]), Context()) == {"batchItemFailures": []}
    counted = _metrics(capsys)
    assert counted[names.reference_stale_metric("currencies")] == 1 and counted["Transactions"] == 1
    assert '"t1":[' in _state(lambda_env)
    warned = [r for r in caplog.records if "past its review date" in r.getMessage()]
    assert any("currencies (version" in str(r.__dict__.get("dataset")) for r in warned)


def test_a_missing_reference_dataset_fails_the_batch_for_a_retry_and_dead_letters_nothing(lambda_env):
    s3, handler = lambda_env["s3"], lambda_env["handler"]
    s3.delete_object(Bucket=REFERENCE_BUCKET, Key=reference.manifest_key("fatf_lists"))
    event = _event([_row("t1", 1)])
    with pytest.raises(ReferenceDataError, match="fatf_lists"):
        handler.lambda_handler(event, Context())
    assert _drain(lambda_env["sqs"], lambda_env["dlq"]) == [] and _state(lambda_env) == ""
    publish.to_s3(s3, REFERENCE_BUCKET, reference_objects())  # published: Lambda's retry succeeds
    assert handler.lambda_handler(event, Context()) == {"batchItemFailures": []}
    assert '"t1":[' in _state(lambda_env)


def test_fx_rates_are_read_only_when_an_amount_must_be_derived(lambda_env):
    s3, handler = lambda_env["s3"], lambda_env["handler"]
    s3.delete_object(Bucket=REFERENCE_BUCKET, Key=reference.data_key("fx_rates"))
    assert handler.lambda_handler(_event([_row("t1", 1)]), Context()) == {"batchItemFailures": []}
    derive = _event([{**_row("eur", 2), "currency": "EUR", "amount_base": None}], first_seq=5)
    with pytest.raises(ReferenceDataError, match="fx_rates"):
        handler.lambda_handler(derive, Context())
    assert _drain(lambda_env["sqs"], lambda_env["dlq"]) == []
