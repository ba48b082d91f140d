"""Late records (issue 20): a lagging shard's records are evaluated within the late-record horizon,
alert ids do not depend on arrival order, and a record beyond the horizon is counted, published and
logged. End to end through the handler on moto, with two shards' batches delivered days apart."""
from __future__ import annotations

import base64
import json
from datetime import timedelta as td

from lambda_harness import REGION, Context

from aml_contract import names
from lambdas.realtime_rules.alerts import alert_id
from lambdas.realtime_rules.engine import LATE_BEYOND_HORIZON, metric_name
from lambdas.realtime_rules.state_store import from_item, to_item
from lambdas.realtime_rules.window import AccountState, Event, Horizons

DAY = "2025-03-0{}T{:02d}:00:00Z"


def _credit(tid: str, day: int, hour: int, payer: str) -> dict:
    return {"transaction_id": tid, "booked_at": DAY.format(day, hour), "originator_account_id": payer,
            "beneficiary_account_id": "ACC", "amount": "500", "currency": "USD", "amount_base": "500",
            "transaction_type": "wire", "channel": "online", "status": "booked"}


# The case: five credits from five payers within four hours, a sixth two days later.
CREDITS = {f"c{i}": _credit(f"c{i}", 3, 10 + i - 1, f"P{i}") for i in range(1, 6)} | {"c6": _credit("c6", 5, 10, "P6")}


def _shard_event(shard: int, rows: list[dict], first_seq: int) -> dict:
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": row["originator_account_id"],
                    "sequenceNumber": str(first_seq + i), "data": base64.b64encode(json.dumps(row).encode()).decode(),
                    "approximateArrivalTimestamp": 1.0},
        "eventSource": "aws:kinesis", "eventID": f"shardId-{shard:012d}:{first_seq + i}", "awsRegion": REGION,
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"} for i, row in enumerate(rows)]}


def _deliver(env, batches: list[tuple[int, list[str]]]) -> list[dict]:
    """Each (shard, transaction ids) batch through the handler in turn; the fan-in alerts stored."""
    h = env["handler"]
    for n, (shard, tids) in enumerate(batches):
        response = h.lambda_handler(_shard_event(shard, [CREDITS[t] for t in tids], 100 * n + 1), Context())
        assert response == {"batchItemFailures": []}
    return [a for a in env["ddb"].scan(TableName="alerts")["Items"] if a["rule_id"]["S"] == "fan_in"]


def _forget_everything(env) -> None:
    """An empty deployment: no state, alerts or idempotency records, a new container."""
    for table, keys in (("state", ("pk", "sk")), ("alerts", ("alert_id",)), ("idem", ("id",))):
        for item in env["ddb"].scan(TableName=table)["Items"]:
            env["ddb"].delete_item(TableName=table, Key={k: item[k] for k in keys})
    env["handler"].forget_runtime()


def test_credits_through_two_shards_skewed_by_two_days_raise_one_alert_with_the_in_order_id(lambda_env, capsys):
    # Shard 1 is two days ahead: its batch (c2, c4 and the later c6) is processed first, so the
    # account's watermark is two days past c1, c3 and c5 when shard 0's batch arrives.
    skewed = _deliver(lambda_env, [(1, ["c2", "c4", "c6"]), (0, ["c1", "c3", "c5"])])
    assert len(skewed) == 1
    emitted = capsys.readouterr().out
    assert '"OutOfOrder":[3.0]' in emitted.replace(" ", "")  # evaluated, not set aside
    assert '"LateBeyondHorizon":[0.0]' in emitted.replace(" ", "")

    _forget_everything(lambda_env)
    in_order = _deliver(lambda_env, [(0, ["c1", "c2", "c3", "c4", "c5", "c6"])])
    assert [a["alert_id"] for a in in_order] == [a["alert_id"] for a in skewed]
    assert set(in_order[0]["transaction_ids"]["L"][i]["S"] for i in range(5)) == {"c1", "c2", "c3", "c4", "c5"}

    # Redelivering the lagging shard's batch (a retry) changes nothing.
    _deliver(lambda_env, [(0, ["c1", "c3", "c5"])])
    assert len(_deliver(lambda_env, [])) == 1


def test_a_record_beyond_the_horizon_raises_the_metric_and_is_logged(lambda_env, capsys, caplog):
    newest = _credit("new", 9, 10, "P1")
    behind = {**_credit("old", 1, 9, "P2")}  # 8 days and 1 hour behind: beyond the 7-day horizon
    h = lambda_env["handler"]
    assert h.lambda_handler(_shard_event(0, [newest], 1), Context()) == {"batchItemFailures": []}
    capsys.readouterr()
    assert h.lambda_handler(_shard_event(1, [behind], 1), Context()) == {"batchItemFailures": []}
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    [metrics] = [line for line in lines if "_aws" in line]
    assert metrics[names.LATE_BEYOND_HORIZON_METRIC] == [1.0]
    assert metric_name(LATE_BEYOND_HORIZON) == names.LATE_BEYOND_HORIZON_METRIC
    [logged] = [r for r in caplog.records if "late-record horizon" in r.getMessage()]
    assert logged.levelname == "WARNING"
    assert logged.transaction_id == "old" and logged.behind_seconds == 8 * 86_400 + 3_600
    # The record is acknowledged (not retried forever) and not in the account's windows.
    state = lambda_env["ddb"].get_item(TableName="state", Key={"pk": {"S": "ACC"}, "sk": {"S": "window-summary"}})
    assert set(json.loads(state["Item"]["summary"]["S"])["e"]) == {"new"}


def _fan_in(make_tx, hours):
    return [make_tx(orig=f"P{i}", benef="A", amount=500, at=td(hours=h), tid=f"f{i}") for i, h in enumerate(hours)]


def test_a_window_re_anchored_by_a_late_record_joins_the_alert_already_raised(make_tx, run_rules):
    """f0..f4 qualify (window ending at f4); f5 is 25 h after f0, so its own window (f1..f5) starts
    at f1. Before episodes, in order, that was a second alert for the same activity (anchor f1)."""
    credits = _fan_in(make_tx, [0, 2, 4, 6, 8, 25])
    in_order = run_rules(credits, "A", rule_id="fan_in")
    assert {d.anchor for d in in_order} == {"f0"} and len(in_order) == 2
    # The lagging shard holds f0: f1..f5 qualify first (anchor f1); f0 then completes an earlier
    # window (f0..f4), which joins the alert already raised instead of raising a second one.
    late_first = run_rules(credits[1:] + credits[:1], "A", rule_id="fan_in")
    assert {d.anchor for d in late_first} == {"f1"}
    # So does reversed order (f1..f5 are complete before f0 arrives). Any order in which the
    # earliest qualifying window (f0..f4) is complete first gives the in-order id.
    assert {d.anchor for d in run_rules(credits[::-1], "A", rule_id="fan_in")} == {"f1"}
    for order in ([credits[i] for i in (4, 2, 0, 3, 1, 5)], [credits[i] for i in (0, 1, 2, 3, 5, 4)]):
        assert {d.anchor for d in run_rules(order, "A", rule_id="fan_in")} == {"f0"}, order


def test_separate_activity_still_raises_its_own_alert(make_tx, run_rules):
    credits = _fan_in(make_tx, [0, 1, 2, 3, 4]) + [
        make_tx(orig=f"Q{i}", benef="A", amount=500, at=td(days=2, hours=i), tid=f"g{i}") for i in range(5)]
    assert {d.anchor for d in run_rules(credits, "A", rule_id="fan_in")} == {"f0", "g0"}
    assert {d.anchor for d in run_rules(credits[5:] + credits[:5], "A", rule_id="fan_in")} == {"f0", "g0"}


def test_calendar_rules_anchor_on_their_day_whatever_arrives_first(make_tx, run_rules):
    late_morning = make_tx(type="cash_deposit", orig="CASH", benef="A", amount=6000, at=td(hours=-2))
    noon = make_tx(type="cash_deposit", orig="CASH", benef="A", amount=6000)
    [a] = run_rules([noon, late_morning], "A", rule_id="large_cash")
    [b] = run_rules([late_morning, noon], "A", rule_id="large_cash")
    assert alert_id(a) == alert_id(b)


def test_episodes_are_stored_pruned_and_absent_when_none(params):
    horizons = Horizons.from_params(params)
    state = AccountState("ACC", events={"t": Event("t", 1_000_000_000, 100, "in", "X", "wire", False)},
                         watermark=1_000_000_000, first_seen=1_000_000_000)
    assert "a" not in json.loads(to_item(state, horizons, 0)["summary"]["S"])
    assert state.episode_anchor("fan_in", "t", 999_990_000, 1_000_000_000) == "t"
    assert state.episode_anchor("fan_in", "u", 999_999_000, 1_000_000_500) == "t"  # overlaps: joins
    back = from_item(to_item(state, horizons, 0))
    assert back.episodes == {"fan_in": [["t", 999_990_000, 1_000_000_000]]}
    later = Event("z", 1_000_000_000 + horizons.events + 1, 100, "in", "X", "wire", False)
    back.add(later, horizons)
    assert back.episodes == {}  # no window within the horizon can reach it any more
