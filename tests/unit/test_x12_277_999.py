"""277 claim status responses (005010X212) and 999 acknowledgements (005010X231A1) onto
claim-status (issue 9, root cause 14): categories, codes and amounts equal the file's."""
from __future__ import annotations

from datetime import UTC, date, datetime

from producers.x12.cli import convert
from schemas import codec
from schemas import topics as T
from tests.unit import x12_fixtures as X

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def statuses(text: str):
    result = convert(text, "s.edi", NOW)
    return [codec.decode_for(r.topic, r.value) for r in result.records
            if r.topic == T.CLAIM_STATUS], result


def test_a_277_response_maps_each_claims_categories_codes_and_payment():
    paid = [("TRN", 2, "TRACE-1"),
            ("STC", ("F1", "65"), "20260225", "", "225", "130.5", "20260220", "", "20260226",
             "EFT0001"),
            ("REF", "1K", "PCN-77"), ("REF", "EJ", "4000776-1"),
            ("DTP", "472", "RD8", "20260210-20260212")]
    pending = [("TRN", 2, "HAR123"), ("STC", ("P1", "20", "PR"), "20260228", "", "80"),
               ("DTP", "472", "D8", "20260214")]
    (f1, p1), result = statuses(X.response_277([paid, pending]))
    assert result.errors == []
    assert (f1["claim_id"], f1["transaction"], f1["accepted"], f1["payer_id"]) == (
        "4000776-1", "277", True, "ACME")  # REF*EJ, not the 276 trace
    assert f1["statuses"] == [{"category": "F1", "code": "65", "entity": None}]
    assert (f1["total_charge_cents"], f1["paid_cents"], f1["payer_claim_control_number"]) == (
        22500, 13050, "PCN-77")
    assert (f1["adjudicated_on"], f1["remitted_on"], f1["remittance_trace"]) == (
        date(2026, 2, 20), date(2026, 2, 26), "EFT0001")
    assert (f1["service_start"], f1["service_end"]) == (date(2026, 2, 10), date(2026, 2, 12))
    assert f1["occurred_at"] == datetime(2026, 2, 25, tzinfo=UTC)
    assert (p1["claim_id"], p1["accepted"], p1["statuses"]) == (
        "HAR123", True, [{"category": "P1", "code": "20", "entity": "PR"}])
    assert p1["total_charge_cents"] == 8000 and p1["paid_cents"] is None


def test_a_claim_not_found_is_not_accepted_and_an_unanswered_inquiry_is_counted_not_published():
    missing = [("TRN", 2, "C1"), ("STC", ("D0", "35"), "20260228")]
    unanswered = [("TRN", 2, "C2"), ("STC", ("E1", "484"), "20260228")]
    [d0], result = statuses(X.response_277([missing, unanswered]))
    assert (d0["claim_id"], d0["accepted"]) == ("C1", False)
    assert result.errors == []
    assert any("E0-E4" in what for what in result.counts)


def _277ca_with_service_date(date_text: str) -> str:
    body = [("BHT", "0085", "08", "ACK1", "20260301", "1200", "TH"),
            ("HL", 1, "", 20, 1), ("NM1", "PR", 2, "ACME", "", "", "", "", "PI", "ACME"),
            ("HL", 2, 1, 21, 1), ("NM1", "41", 2, "HOSP", "", "", "", "", "46", "H1"),
            ("HL", 3, 2, 19, 1), ("NM1", "85", 2, "HOSP", "", "", "", "", "XX", "1234567893"),
            ("HL", 4, 3, "PT"), ("NM1", "QC", 1, "DOE", "JANE"), ("TRN", 2, "4000776-1"),
            ("STC", ("A2", "20"), "20260301", "WQ", "225"),
            ("DTP", "472", "D8", date_text)]
    tx = X.transaction("277", "0001", "005010X214", body)
    return X.interchange([X.group("HN", 1, "005010X214", [tx])])


def test_a_placeholder_service_date_in_a_277ca_is_read_as_not_given_and_the_status_stands():
    [rec], result = statuses(_277ca_with_service_date("10010101"))
    assert result.errors == []
    assert (rec["claim_id"], rec["accepted"], rec["service_start"], rec["service_end"]) == (
        "4000776-1", True, None, None)
    assert result.counts["placeholder service dates (before 1900) read as not given"] == 1


def test_an_impossible_service_date_in_a_277ca_is_refused_naming_it():
    recs, result = statuses(_277ca_with_service_date("20260231"))
    [err] = result.errors
    assert recs == [] and err.segment_id == "DTP" and "'20260231' is not a CCYYMMDD date" in err.reason


def rejected_set(control: str, claim_id: str) -> list:
    return [("AK2", "837", control, "005010X222A1"),
            ("IK3", "CLM", "22", "2300", "8"), ("CTX", ("CLM01", claim_id)),
            ("IK4", "2", "1028", "7", "X"), ("IK5", "R", "5")]


def test_a_999_rejection_names_the_claims_of_the_rejected_set_with_its_error_codes():
    accepted = [("AK2", "837", "0001", "005010X222A1"), ("IK5", "A")]
    recs, result = statuses(X.ack_999([accepted, rejected_set("0002", "4000776-1")],
                                    ("AK9", "P", "2", "2", "1")))
    assert result.errors == []
    [_, _, r] = recs
    assert (r["claim_id"], r["transaction"], r["accepted"], r["payer_id"]) == (
        "4000776-1", "999", False, "SENDER")
    assert r["statuses"] == [{"category": "R", "code": "IK304:8", "entity": None},
                             {"category": "R", "code": "IK403:7", "entity": None}]
    assert r["occurred_at"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert (r["submitter_id"], r["group_control_number"], r["set_control_number"]) == (
        "RECEIVER", "17", "0002")
    assert result.counts["999 sets accepted naming no claim"] == 1


def test_each_999_set_result_is_reported_for_the_set_naming_its_837_control_numbers():
    """A set accepted or rejected as a whole names no claim: its result names the 837 set (the
    sender it answers, GS03; the group, AK102; the set, AK202), for the sink to find its claims."""
    accepted = [("AK2", "837", "0001", "005010X222A1"), ("IK5", "A")]
    rejected = [("AK2", "837", "0002", "005010X222A1"), ("IK3", "NM1", "8", "2010", "8"),
                ("IK4", "9", "67", "7"), ("IK5", "R", "5")]
    recs, result = statuses(X.ack_999([accepted, rejected, rejected_set("0003", "4000776-1")],
                                      ("AK9", "P", "3", "3", "1")))
    assert result.errors == []
    sets = [(r["event_id"], r["claim_id"], r["accepted"], r["submitter_id"], r["payer_id"],
             r["group_control_number"], r["set_control_number"], r["statuses"]) for r in recs]
    prefix = "x999:PAYER:000000001:0001:17"
    assert sets == [
        (f"{prefix}:0001", "", True, "RECEIVER", "SENDER", "17", "0001",
         [{"category": "A", "code": "IK5", "entity": None}]),
        (f"{prefix}:0002", "", False, "RECEIVER", "SENDER", "17", "0002",
         [{"category": "R", "code": "IK304:8", "entity": None},
          {"category": "R", "code": "IK403:7", "entity": None}]),
        (f"{prefix}:0003", "", False, "RECEIVER", "SENDER", "17", "0003",
         [{"category": "R", "code": "IK304:8", "entity": None},
          {"category": "R", "code": "IK403:7", "entity": None}]),
        # the claim the third set names: the id its set's result would give it
        (f"{prefix}:0003:4000776-1", "4000776-1", False, "RECEIVER", "SENDER", "17", "0003",
         [{"category": "R", "code": "IK304:8", "entity": None},
          {"category": "R", "code": "IK403:7", "entity": None}])]
    assert {r["occurred_at"] for r in recs} == {datetime(2026, 3, 1, tzinfo=UTC)}  # GS04
    assert (result.counts["999 sets accepted naming no claim"],
            result.counts["999 sets rejected naming no claim"]) == (1, 1)


def test_a_999_whose_counts_contradict_its_sets_is_refused():
    _, result = statuses(X.ack_999([rejected_set("0002", "C1")], ("AK9", "R", "1", "1", "1")))
    [err] = result.errors
    assert err.segment_id == "AK9" and "AK904 says '1'; the 999 has 0 sets accepted" in err.reason


def test_a_999_set_without_ik5_is_refused():
    _, result = statuses(X.ack_999([rejected_set("0002", "C1")[:-1]], ("AK9", "R", "1", "1", "0")))
    [err] = result.errors
    assert err.segment_id == "AK2" and "no IK5" in err.reason


def test_the_999_fixture_passes_pyx12():
    # pyx12 4.0 registers no map for 005010X212 (maps.xml), so only the 999 can be checked.
    from sinks.x12.validate import validate

    result = validate(X.ack_999([rejected_set("0002", "C1")], ("AK9", "R", "1", "1", "0")))
    assert result.ok, result.errors
