"""The scoring on a hand-made case whose every figure is known."""
from __future__ import annotations

import pandas as pd
import pytest

from aml.evaluate.scoring import Detector, at_budget, evaluate, ranking, weigher
from aml_contract import risk, rules

PARAMS = rules.load()

UNIVERSE = {f"A{i}" for i in range(1, 21)}  # 20 accounts
# Laundering: A1, A2 (fan_in), A3 (cycle), A4 (cycle and fan_in).
LABELS = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4", "A4"],
                       "typology": ["fan_in", "fan_in", "cycle", "cycle", "fan_in"]})


def det(name, family, accounts, scenario=None):
    return Detector(name, family, scenario or name, frozenset(accounts))


DETECTORS = [
    det("fan_in", "batch", {"A1", "A5"}),                      # 1 TP of 2 flagged
    det("cycles", "batch", {"A3", "A4", "A6", "A7"}),          # 2 TP of 4
    det("stream:fan_in", "stream", {"A1", "A2"}, "fan_in"),   # same scenario as batch fan_in
    det("high_value_transactions", "listing", {"A1", "A2", "A3", "A4", "A8"}),  # never counted
    det("baseline_many_sent", "baseline", set(UNIVERSE) - {"A3"}),
    det("ghost", "batch", {"X99"}),                             # not one of our accounts: ignored
]


@pytest.fixture(scope="module")
def result():
    return evaluate(DETECTORS, LABELS, UNIVERSE, budget=0.10, params=PARAMS)  # 10% of 20 = 2 accounts


def test_detector_figures(result):
    fan_in = result["detectors"]["fan_in"]
    assert (fan_in["flagged"], fan_in["true_positives"]) == (2, 1)
    assert fan_in["recall"] == pytest.approx(1 / 4) and fan_in["precision"] == pytest.approx(1 / 2)
    assert fan_in["share_flagged"] == pytest.approx(2 / 20)
    assert fan_in["per_typology"]["fan_in"] == {"accounts": 3, "detected": 1, "recall": pytest.approx(1 / 3),
                                                "precision": pytest.approx(1 / 2)}
    cycles = result["detectors"]["cycles"]
    assert cycles["recall"] == pytest.approx(2 / 4) and cycles["precision"] == pytest.approx(2 / 4)
    assert cycles["per_typology"]["cycle"]["recall"] == pytest.approx(1.0)
    assert cycles["per_typology"]["fan_in"]["recall"] == pytest.approx(1 / 3)  # A4 is both
    assert result["detectors"]["ghost"]["flagged"] == 0
    assert (result["accounts"], result["laundering_accounts"]) == (20, 4)
    assert result["typologies"] == {"cycle": 2, "fan_in": 3}


def test_listing_is_shown_but_not_in_the_union(result):
    assert result["detectors"]["high_value_transactions"]["recall"] == pytest.approx(1.0)
    ours = result["unions"]["ours"]
    assert "high_value_transactions" not in ours["detectors"]
    # union of fan_in, cycles, stream:fan_in = A1 A2 A3 A4 A5 A6 A7: 4 TP of 7
    assert (ours["all"]["flagged"], ours["all"]["true_positives"]) == (7, 4)
    assert ours["all"]["recall"] == pytest.approx(1.0) and ours["all"]["precision"] == pytest.approx(4 / 7)


def test_ranking_counts_a_scenario_once_across_paths():
    ranked = ranking([d for d in DETECTORS if d.family in ("batch", "stream") and d.name != "ghost"],
                     weigher("ours", PARAMS))
    as_dict = {r.account: (r.risk_score, r.alerts) for r in ranked}
    fan_in, cycles = risk.weight("fan_in", PARAMS), risk.weight("cycles", PARAMS)
    assert cycles > fan_in  # high severity 85 x 3 against medium 60 x 2
    assert as_dict["A1"] == (fan_in, 2)  # batch fan_in + stream fan_in: one scenario, two detectors
    assert as_dict["A4"] == (cycles, 1)
    # the heavier scenario first (A3 A4 A6 A7 by id), then fan_in with more detectors (A1) first
    assert [r.account for r in ranked] == ["A3", "A4", "A6", "A7", "A1", "A2", "A5"]


def test_budget_keeps_the_top_of_the_ranking(result):
    at = result["unions"]["ours"]["at_budget"]
    # 2 kept of 20 active accounts: A3 and A4 (cycles, the heaviest scenario), both laundering
    assert (at["budget_accounts"], at["kept"], at["candidates"]) == (2, 2, 7)
    assert at["true_positives"] == 2 and at["recall"] == pytest.approx(2 / 4) and at["precision"] == pytest.approx(1.0)
    assert at["cut_at_risk_score"] == risk.weight("cycles", PARAMS)
    assert at["ties_left_out"] == 2  # A6, A7 scored like A4
    assert at["per_typology"]["fan_in"]["recall"] == pytest.approx(1 / 3)  # A4 is fan_in too
    assert at["per_typology"]["cycle"]["recall"] == pytest.approx(1.0)


def test_the_budget_is_a_share_of_active_accounts():
    few = evaluate(DETECTORS, LABELS, UNIVERSE, budget=0.10, params=PARAMS, active_accounts=10)
    assert few["unions"]["ours"]["at_budget"]["budget_accounts"] == 1 and few["active_accounts"] == 10


def test_baseline_union_and_budget(result):
    base = result["unions"]["baseline"]
    assert base["all"]["flagged"] == 19 and base["all"]["recall"] == pytest.approx(3 / 4)
    assert base["at_budget"]["kept"] == 2


def test_budget_larger_than_candidates():
    kept, info = at_budget([det("a", "batch", {"A1", "A2"})], active_accounts=100, budget=0.5,
                           weigh=lambda _s: 1)
    assert kept == {"A1", "A2"} and info["budget_accounts"] == 50 and "ties_left_out" not in info


def test_replay_chunks_span_less_than_the_tolerance():
    from aml.evaluate.pipeline import in_step_chunks

    times = pd.Series(pd.to_datetime(["2026-01-01 00:00", "2026-01-01 23:59", "2026-01-02 00:00",
                                      "2026-01-09 10:00", "2026-01-10 09:59", "2026-01-10 10:00"], utc=True))
    assert in_step_chunks(times, pd.Timedelta(hours=24)).tolist() == [0, 0, 1, 2, 2, 3]
