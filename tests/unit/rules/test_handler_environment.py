"""The function's configuration comes from its environment, which the streaming stack owns:
Powertools' service and metrics namespace (names.POWERTOOLS_ENV) and the alert TTL
(names.ALERT_TTL_DAYS_ENV) beside the resources (names.RULES_LAMBDA_ENV)."""
import time

import pytest
from lambda_harness import ALERT_TTL_DAYS, Context, _alerts, _event, _row, metric_documents

from aml_contract import names


def test_metrics_carry_the_namespace_and_service_the_alarms_read(lambda_env, capsys):
    capsys.readouterr()
    lambda_env["handler"].lambda_handler(_event([_row("t1", 1)]), Context())
    [document] = metric_documents(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == names.RULES_METRICS_NAMESPACE
    assert document["service"] == names.RULES_SERVICE
    assert {m["Name"] for m in directive["Metrics"]} >= {"Records", "Transactions", "AlertsNew"}


def test_logs_carry_the_service(lambda_env, caplog):
    handler = lambda_env["handler"]
    handler.lambda_handler(_event([_row("t1", 1)]), Context())
    assert handler.logger.service == names.RULES_SERVICE
    assert "batch processed" in [r.getMessage() for r in caplog.records if r.name == names.RULES_SERVICE]


def test_alerts_are_kept_for_the_configured_days(lambda_env):
    before = int(time.time())
    lambda_env["handler"].lambda_handler(_event([_row("t1", 1), _row("t2", 2)]), Context())
    [alert] = _alerts(lambda_env["ddb"])
    days = int(ALERT_TTL_DAYS)
    assert before + days * 86_400 <= int(alert["ttl"]["N"]) <= int(time.time()) + days * 86_400


@pytest.mark.parametrize("variable", [names.ALERT_TTL_DAYS_ENV, *names.POWERTOOLS_ENV])
def test_a_missing_setting_is_reported(monkeypatch, lambda_env, variable):
    monkeypatch.delenv(variable)
    with pytest.raises(RuntimeError, match=f"environment variables not set: {variable}"):
        lambda_env["handler"].runtime()


@pytest.mark.parametrize("value", ["0", "-3", "400.5", "a year"])
def test_an_alert_ttl_that_is_not_whole_days_is_reported(monkeypatch, lambda_env, value):
    monkeypatch.setenv(names.ALERT_TTL_DAYS_ENV, value)
    with pytest.raises(RuntimeError, match=f"{names.ALERT_TTL_DAYS_ENV} must be a whole number of days"):
        lambda_env["handler"].runtime()
