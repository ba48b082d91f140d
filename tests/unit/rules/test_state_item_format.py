"""The stored rule-state item (one per account in the rule-state table) keeps its format: the
expected item below is what the code wrote before the window model and the store were separated
(issue 18), so a stored summary written by either version reads back the same."""
from __future__ import annotations

from lambdas.realtime_rules.state_store import from_item, to_item
from lambdas.realtime_rules.window import AccountState, Event, Horizons

HORIZONS = Horizons(tolerance=86_400, events=691_200, round_events=2_678_400, days=63, ttl=13_219_200)
STATE = AccountState(
    "ACC-1", version=3, watermark=1_762_171_200, first_seen=1_762_000_000, pruned_last=1_750_000_000,
    events={"t1": Event("t1", 1_762_171_200, 900_000, "in", "CASH:abcd", "cash_deposit", False),
            "t2": Event("t2", 1_762_100_000, 100_000, "out", "ACC-2", "wire", True)},
    days={"2025-11-02": [1, 100_000, 1_762_100_000], "2025-11-03": [1, 900_000, 1_762_171_200]})
NOW = 1_762_180_000.5
EXPECTED_ITEM = {
    "pk": {"S": "ACC-1"}, "sk": {"S": "window-summary"}, "version": {"N": "4"}, "ttl": {"N": "1775399200"},
    "summary": {"S": '{"w":1762171200,"f":1762000000,"p":1750000000,'
                     '"d":{"2025-11-02":[1,100000,1762100000],"2025-11-03":[1,900000,1762171200]},'
                     '"e":{"t1":[1762171200,900000,"in","CASH:abcd","cash_deposit",0],'
                     '"t2":[1762100000,100000,"out","ACC-2","wire",1]}}'},
}


def test_a_fixed_account_state_is_stored_as_the_expected_item():
    assert to_item(STATE, HORIZONS, NOW) == EXPECTED_ITEM


def test_the_expected_item_reads_back_as_the_state_it_stores():
    back = from_item(EXPECTED_ITEM)
    assert back == AccountState(**{**STATE.__dict__, "version": 4, "_sorted": None, "_activity": None})
    assert to_item(back, HORIZONS, NOW)["summary"] == EXPECTED_ITEM["summary"]


def test_raised_episodes_are_stored_under_a_and_read_back():
    """Issue 20: a summary with alerts already raised also stores their episodes (rule -> [anchor,
    first event time, last event time]); one without keeps exactly the format above."""
    state = AccountState(**{**STATE.__dict__, "_sorted": None, "_activity": None,
                            "episodes": {"fan_in": [["t2", 1_762_100_000, 1_762_171_200]]}})
    item = to_item(state, HORIZONS, NOW)
    assert item["summary"]["S"] == EXPECTED_ITEM["summary"]["S"][:-1] + ',"a":{"fan_in":[["t2",1762100000,1762171200]]}}'
    assert from_item(item).episodes == state.episodes


def test_an_event_of_unknown_amount_is_stored_with_null_cents_and_read_back():
    """Issue 19: an event whose USD amount is unknown stores null where the cents go (JSON null, the
    same list of six), so items written before read back unchanged and the new ones round-trip."""
    unknown = Event("t3", 1_762_171_300, None, "in", "ACC-3", "crypto", False)
    state = AccountState(**{**STATE.__dict__, "_sorted": None, "_activity": None,
                            "events": {**STATE.events, "t3": unknown}})
    item = to_item(state, HORIZONS, NOW)
    assert '"t3":[1762171300,null,"in","ACC-3","crypto",0]' in item["summary"]["S"]
    assert from_item(item).events["t3"] == unknown


def test_an_event_of_unknown_amount_counts_in_its_day_but_adds_no_cents():
    state = AccountState("ACC-1")
    state.add(Event("t1", 1_762_171_200, 900_000, "in", "X", "wire", False), HORIZONS)
    state.add(Event("t2", 1_762_171_300, None, "in", "Y", "crypto", False), HORIZONS)
    assert state.days["2025-11-03"] == [2, 900_000, 1_762_171_300]
