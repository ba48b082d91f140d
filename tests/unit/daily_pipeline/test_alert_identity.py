"""The one alert identity (aml_contract.alert_identity): overlap, the alert a finding joins, and
batch windows as whole days."""
from datetime import UTC, date, datetime

import pytest

from aml_contract.alert_identity import batch_window, join_target, overlaps


def test_overlapping_windows_share_an_instant_and_adjacent_ones_do_not():
    assert overlaps(0, 10, 9, 20)
    assert overlaps(0, 10, 2, 3)  # one inside the other
    assert not overlaps(0, 10, 10, 20)  # adjacent: the first ends where the second starts
    assert not overlaps(10, 20, 0, 10)


def test_a_finding_joins_the_earliest_overlapping_alert_by_start_then_id():
    known = [("b", 5, 15), ("a", 5, 12), ("c", 0, 6), ("far", 30, 40)]
    assert join_target(known, 10, 11) == "a"  # b and a start together: the id decides
    assert join_target(known, 4, 11) == "c"
    assert join_target(known, 20, 30) is None  # touches "far" only at its start


def test_batch_windows_are_whole_utc_days():
    start, end = batch_window(date(2025, 3, 1), date(2025, 3, 2))
    assert (start, end) == (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC))
    # a real-time window ending at midnight before the first day is adjacent, not overlapping
    assert not overlaps(datetime(2025, 2, 28, 18, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC), start, end)
    assert overlaps(datetime(2025, 2, 28, 18, tzinfo=UTC), datetime(2025, 3, 1, 0, 0, 1, tzinfo=UTC), start, end)
    with pytest.raises(ValueError, match="before it starts"):
        batch_window(date(2025, 3, 2), date(2025, 3, 1))


def test_the_rules_lambda_joins_its_episodes_by_the_same_rule():
    from lambdas.realtime_rules.window import AccountState

    state = AccountState("ACC-1")
    assert state.episode_anchor("fan_in", "t1", 100, 200) == "t1"
    assert state.episode_anchor("fan_in", "t9", 200, 300) == "t1"  # shares the instant 200 (closed spans)
    assert state.episode_anchor("fan_in", "t5", 301, 400) == "t5"  # starts after: a new episode
