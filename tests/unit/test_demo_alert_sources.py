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


def test_alerts_a_profile_decided_are_those_naming_it():
    from aml.demo.alert_sources import made_possible_by_profiles

    alerts = pd.DataFrame([
        {"alert_id": "a", "rule_id": "amount_outlier", "source": "realtime", "details": '{"profile_as_of": "2026-01-28"}'},
        {"alert_id": "a", "rule_id": "amount_outlier", "source": "realtime", "details": '{"profile_as_of": "2026-01-28"}'},
        {"alert_id": "b", "rule_id": "velocity_spike", "source": "realtime",
         "details": '{"baseline_source": "profile", "profile_as_of": "2026-01-28"}'},
        {"alert_id": "c", "rule_id": "velocity_spike", "source": "realtime", "details": '{"baseline_source": "stream"}'},
        {"alert_id": "d", "rule_id": "velocity_spike", "source": "batch", "details": '{"profile_as_of": "x"}'},
    ])
    assert made_possible_by_profiles(alerts) == {"amount_outlier": 1, "velocity_spike": 1}
    assert made_possible_by_profiles(alerts.iloc[:0]) == {}
