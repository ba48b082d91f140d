"""The Lambda functions' whole environments, in one place: the stacks set them on the functions,
and the local runtime sets the same before calling a handler (aml/local/resources.py, the daily
pipeline's local Lambda binding). It imports no CDK module, so the local runtime pays nothing for it."""
from __future__ import annotations

from aml_contract import daily_pipeline, names
from stacks.settings import Settings


def function_environment(settings: Settings, resources: dict[str, str]) -> dict[str, str]:
    """Its resources (names.RULES_LAMBDA_ENV: field -> value given), Powertools' service and
    metrics namespace (names.POWERTOOLS_ENV), and its settings (ALERT_TTL_DAYS)."""
    return {**{var: resources[field] for field, var in names.RULES_LAMBDA_ENV.items()},
            **names.POWERTOOLS_ENV,
            names.ALERT_TTL_DAYS_ENV: str(settings.streaming.alert_ttl_days)}


def pipeline_function_environment(settings: Settings, resources: dict[str, str]) -> dict[str, str]:
    """A daily pipeline function's: its resources (daily_pipeline.FUNCTION_ENV: field -> value
    given), Powertools' service and namespace (daily_pipeline.POWERTOOLS_ENV) and the alert TTL."""
    return {**{var: resources[field] for field, var in daily_pipeline.FUNCTION_ENV.items()},
            **daily_pipeline.POWERTOOLS_ENV,
            names.ALERT_TTL_DAYS_ENV: str(settings.streaming.alert_ttl_days)}
