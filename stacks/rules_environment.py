"""The rules Lambda's whole environment, in one place: the streaming stack sets it on the function,
and the local runtime sets the same before calling the handler (aml/local/resources.py). It
imports no CDK module, so the local runtime pays nothing for it."""
from __future__ import annotations

from aml_contract import names
from stacks.settings import Settings


def function_environment(settings: Settings, resources: dict[str, str]) -> dict[str, str]:
    """Its resources (names.RULES_LAMBDA_ENV: field -> value given), Powertools' service and
    metrics namespace (names.POWERTOOLS_ENV), and its settings (ALERT_TTL_DAYS)."""
    return {**{var: resources[field] for field, var in names.RULES_LAMBDA_ENV.items()},
            **names.POWERTOOLS_ENV,
            names.ALERT_TTL_DAYS_ENV: str(settings.streaming.alert_ttl_days)}
