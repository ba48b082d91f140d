"""The high-risk jurisdiction rule applies the FATF publication in force on the transaction's UTC
booking date (ReferenceData.fatf_lists), and says which: Nigeria left the grey list with the
publication of 2025-10-24; before our oldest publication the oldest applies, flagged back_extended."""
import pytest

OLDEST = "2025-06-13"  # the oldest publication in aml/reference/sources/fatf_lists.json


def _wire_to_nigeria(make_tx, booked_at: str):
    return make_tx(orig="A", benef="B", amount=5_000, beneficiary_country="NG", booked_at=booked_at)


def test_the_day_before_the_october_2025_list_nigeria_is_grey_listed(make_tx, run_rules):
    [draft] = run_rules([_wire_to_nigeria(make_tx, "2025-10-23T23:59:59Z")], "A", rule_id="high_risk_jurisdiction")
    assert draft.details["list"] == "grey_list"
    assert draft.details["list_effective"] == OLDEST and draft.details["list_back_extended"] is False


@pytest.mark.parametrize("booked_at", ["2025-10-24T00:00:00Z", "2025-10-23T23:30:00-02:00"])
def test_from_the_october_2025_list_nigeria_raises_nothing(make_tx, run_rules, booked_at):
    """The second is booked on 23 October local time, 24 October UTC: the UTC date decides."""
    assert run_rules([_wire_to_nigeria(make_tx, booked_at)], "A", rule_id="high_risk_jurisdiction") == []


def test_before_the_oldest_publication_the_oldest_applies_and_the_alert_says_so(make_tx, run_rules):
    [draft] = run_rules([_wire_to_nigeria(make_tx, "2019-03-01T10:00:00Z")], "A", rule_id="high_risk_jurisdiction")
    assert draft.details["list"] == "grey_list"
    assert draft.details["list_effective"] == OLDEST and draft.details["list_back_extended"] is True


def test_the_details_name_the_publication_in_force(make_tx, run_rules):
    wire = make_tx(orig="A", benef="B", amount=1, beneficiary_country="KP", booked_at="2025-11-03T12:00:00Z")
    [draft] = run_rules([wire], "A", rule_id="high_risk_jurisdiction")
    assert draft.details["list_effective"] == "2025-10-24" and draft.details["list_back_extended"] is False
