"""Placeholder so the stack synthesizes: the daily pipeline's handlers (plan, batch_alerts,
report; aml_contract.daily_pipeline.HANDLERS) are written on their own branch, which replaces
this file."""
from __future__ import annotations


def plan(event, context):
    raise NotImplementedError("daily pipeline plan handler")


def batch_alerts(event, context):
    raise NotImplementedError("daily pipeline batch_alerts handler")


def report(event, context):
    raise NotImplementedError("daily pipeline report handler")
