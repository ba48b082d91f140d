import pandas as pd

from aml.demo.alert_sources import by_source


def test_alerts_are_counted_by_source_and_merged_once():
    alerts = pd.DataFrame([
        {"alert_id": "a", "rule_id": "structuring", "source": "realtime"},
        {"alert_id": "a", "rule_id": "structuring", "source": "batch"},  # both paths: merged
        {"alert_id": "a", "rule_id": "structuring", "source": "batch"},  # landed twice: still one
        {"alert_id": "b", "rule_id": "structuring", "source": "realtime"},
        {"alert_id": "c", "rule_id": "cycles", "source": "batch"},
        {"alert_id": "d", "rule_id": "cycles", "source": None},  # before sources were recorded
    ])
    found = by_source(alerts)
    assert found["totals"] == {"alerts": 4, "realtime": 3, "batch": 2, "merged": 1, "realtime_only": 2,
                               "batch_only": 1}
    assert found["per_rule"]["cycles"] == {"alerts": 2, "realtime": 1, "batch": 1, "merged": 0, "realtime_only": 1,
                                           "batch_only": 1}
