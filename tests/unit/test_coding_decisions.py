"""Coders' decisions: hold a reviewed encounter, release it with the coder's codes, in either order."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from processors.coding.decisions import (
    CORRECTION_WINDOW_DAYS,
    NotApplicable,
    agreement,
    on_decision,
    on_encounter,
    too_late_to_correct,
    validate_decision,
)
from processors.coding.rules import code_encounter
from processors.payers import PAYERS
from processors.state import CLAIM_STATE, CODING_PENDING
from schemas import codec
from schemas import topics as T
from schemas.accounts import make_account_id
from tests.support.stores import DictStore

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DOS = date(2026, 3, 2)
THRESHOLD = 0.80


def encounter(texts=("feeling off", "essential hypertension"), **over) -> dict:
    enc = {
        "event_id": "enc-ev-1", "encounter_id": "E1", "account_id": make_account_id(42),
        "occurred_at": T0, "emitted_at": T0, "patient_age": 58, "patient_sex": "F",
        "payer_id": "MEDICARE", "plan_type": "MEDICARE", "provider_npi": "1234567893",
        "facility_id": "FAC1", "encounter_class": "OFFICE", "service_start": DOS, "service_end": DOS,
        "diagnoses": [{"sequence": i, "text": t, "code": None} for i, t in enumerate(texts, 1)],
        "charges": [{"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500,
                     "service_date": DOS}],
        "procedures_pcs": [], "discharge_status": None,
    }
    return enc | over


def decision(codes=("R53.83", "I10"), event_id="dec-1", **over) -> dict:
    return {"event_id": event_id, "encounter_id": "E1", "account_id": make_account_id(42),
            "coder_id": "CODER-07", "decided_at": T0, "emitted_at": T0,
            "diagnoses": [{"sequence": i, "code": c} for i, c in enumerate(codes, 1)],
            "procedures": []} | over


def coded(enc, coder, cm):
    return code_encounter(enc, cm, coder, THRESHOLD)


def topics(release):
    return [t.name for t, _ in release.records]


def test_a_reviewed_encounter_waits_then_the_decision_releases_it_with_the_coders_codes(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    kind, review = coded(enc, coder, cm)
    assert kind == "review"
    held = on_encounter(enc, kind, review, store, coder, cm)
    assert topics(held) == ["coding-review"] and held.agreement is None
    assert store.get("E1")["encounter"] is not None and not store.get("E1")["released"]

    out = on_decision(decision(), store, coder, cm)
    [(topic, rec)] = out.records
    assert topic is T.ENCOUNTERS_CODED
    assert [d["code"] for d in rec["diagnoses"]] == ["R53.83", "I10"]
    assert {d["confidence"] for d in rec["diagnoses"]} == {1.0}
    assert "CODER-07" in rec["diagnoses"][0]["evidence"]
    assert rec["event_id"] == "enc-ev-1:coded" and rec["procedures"][0]["procedure_code"] == "99213"
    assert rec["coded_by"]["decision_id"] == "dec-1"
    assert "I10" in rec["coded_by"]["suggested"]
    assert out.agreement.kept == 1 and out.agreement.added == 1
    assert store.get("E1")["released"]


def test_a_decision_before_its_encounter_waits_and_the_encounter_is_released_on_arrival(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    assert on_decision(decision(), store, coder, cm).records == []
    kind, review = coded(enc, coder, cm)
    out = on_encounter(enc, kind, review, store, coder, cm)
    assert topics(out) == ["coding-review", "encounters-coded"]
    assert [d["code"] for d in out.records[1][1]["diagnoses"]] == ["R53.83", "I10"]
    assert out.agreement is not None and store.get("E1")["released"]


def test_redeliveries_re_emit_the_same_record_and_count_once(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    kind, review = coded(enc, coder, cm)
    on_encounter(enc, kind, review, store, coder, cm)
    first = on_decision(decision(), store, coder, cm)
    again = on_decision(decision(), store, coder, cm)
    assert again.records == first.records and again.agreement is None
    replay = on_encounter(enc, kind, review, store, coder, cm)
    assert replay.records[-1] == first.records[0] and replay.agreement is None


def test_a_second_different_decision_after_release_is_refused(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    kind, review = coded(enc, coder, cm)
    on_encounter(enc, kind, review, store, coder, cm)
    on_decision(decision(), store, coder, cm)
    with pytest.raises(NotApplicable, match="already released by decision dec-1"):
        on_decision(decision(("R69",), event_id="dec-2"), store, coder, cm)


def test_two_different_early_decisions_are_refused(coder, cm):
    store = DictStore(CODING_PENDING)
    on_decision(decision(), store, coder, cm)
    with pytest.raises(NotApplicable, match="already waiting"):
        on_decision(decision(("R69",), event_id="dec-2"), store, coder, cm)


def test_the_coders_decision_wins_over_automatic_coding(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter(("essential hypertension",))
    kind, rec = coded(enc, coder, cm)
    assert kind == "coded"
    assert on_encounter(enc, kind, rec, store, coder, cm).records == [(T.ENCOUNTERS_CODED, rec)]
    kept = store.get("E1")  # kept, released, for a decision that corrects its claim later
    assert kept["released"] and kept["decision"] is None and kept["suggested"] == ["I10"]
    assert on_encounter(enc, kind, rec, store, coder, cm).records == [(T.ENCOUNTERS_CODED, rec)]

    store2 = DictStore(CODING_PENDING)
    on_decision(decision(("I10", "E78.5")), store2, coder, cm)
    out = on_encounter(enc, kind, rec, store2, coder, cm)
    [(topic, released)] = out.records
    assert topic is T.ENCOUNTERS_CODED
    assert [d["code"] for d in released["diagnoses"]] == ["I10", "E78.5"]
    assert out.agreement.kept == 1 and out.agreement.added == 1 and out.agreement.dropped == 0


def test_a_procedure_override_changes_the_line_code_but_not_the_money(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    kind, review = coded(enc, coder, cm)
    on_encounter(enc, kind, review, store, coder, cm)
    dec = decision(procedures=[{"line": 1, "procedure_code": "99214", "modifiers": ["25"]}])
    [(_, rec)] = on_decision(dec, store, coder, cm).records
    assert rec["procedures"][0]["procedure_code"] == "99214"
    assert rec["procedures"][0]["modifiers"] == ["25"]
    assert rec["procedures"][0]["charge_cents"] == 14500


def test_an_override_of_a_line_the_encounter_lacks_is_not_applicable(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    kind, review = coded(enc, coder, cm)
    on_encounter(enc, kind, review, store, coder, cm)
    dec = decision(procedures=[{"line": 9, "procedure_code": "99214", "modifiers": []}])
    with pytest.raises(NotApplicable, match="line 9"):
        on_decision(dec, store, coder, cm)
    assert not store.get("E1")["released"]


def test_a_decision_for_another_account_is_not_applicable(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    kind, review = coded(enc, coder, cm)
    on_encounter(enc, kind, review, store, coder, cm)
    with pytest.raises(NotApplicable, match="account"):
        on_decision(decision(account_id=make_account_id(43)), store, coder, cm)


def test_an_inpatient_release_is_grouped_to_an_ms_drg(coder, cm):
    store = DictStore(CODING_PENDING)
    enc = encounter(("belly pain, appendix?",), encounter_class="INPATIENT",
                    service_start=date(2025, 11, 3), service_end=date(2025, 11, 5),
                    procedures_pcs=[{"sequence": 1, "code": "0DTJ4ZZ"}], discharge_status="01")
    kind, review = coded(enc, coder, cm)
    assert kind == "review"
    on_encounter(enc, kind, review, store, coder, cm)
    [(_, rec)] = on_decision(decision(("K35.80",)), store, coder, cm).records
    assert rec["drg"]["drg"] == "399"  # appendix procedures without CC/MCC
    assert rec["procedures_pcs"] == [{"sequence": 1, "code": "0DTJ4ZZ"}]


@pytest.mark.parametrize(("codes", "problem"), [
    ((), "no diagnosis"),
    (("E11",), "not billable"),
    (("Q99.99",), "not an ICD-10-CM code"),
    (("I10", "I10"), "chosen twice"),
])
def test_invalid_decisions_are_refused_with_the_reason(coder, codes, problem):
    assert any(problem in p for p in validate_decision(decision(codes), coder))


def test_a_decision_with_a_bad_account_id_is_refused(coder):
    assert "account id is empty" in validate_decision(decision(account_id="  "), coder)
    assert validate_decision(decision(), coder) == []


def test_agreement_compares_sets_of_codes_ignoring_dots_and_order():
    a = agreement(["I10", "E11.9"], ["E119", "I10"])
    assert a.exact and a.jaccard == 1.0
    b = agreement(["I10", "R53.83"], ["I10", "R69"])
    assert (b.kept, b.added, b.dropped) == (1, 1, 1) and b.jaccard == pytest.approx(1 / 3)


# --- a decision that corrects a claim already built (a held claim fixed from the console) --------

def correction(codes, event_id="fix-1", **over) -> dict:
    return decision(codes, event_id=event_id, **{"corrects_claim_id": "CLM-E1", **over})


def test_a_review_carries_the_patients_age_sex_and_date_of_service_for_the_coder(coder, cm):
    kind, review = coded(encounter(patient_age=7, patient_sex="M"), coder, cm)
    assert kind == "review"
    assert (review["patient_age"], review["patient_sex"], review["date_of_service"]) == (7, "M", DOS)
    assert codec.decode_for(T.CODING_REVIEW, codec.encode(T.CODING_REVIEW.value_schema, review)
                            )["patient_sex"] == "M"


def test_a_correction_codes_an_auto_coded_encounter_again_under_its_own_ids(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter(("essential hypertension",))
    kind, rec = coded(enc, coder, cm)
    on_encounter(enc, kind, rec, store, coder, cm)
    out = on_decision(correction(("I10", "E78.5")), store, coder, cm)
    [(topic, again)] = out.records
    assert topic is T.ENCOUNTERS_CODED
    assert [d["code"] for d in again["diagnoses"]] == ["I10", "E78.5"]
    assert (again["event_id"], again["source_event_id"]) == ("fix-1:coded", "fix-1")
    assert again["coded_by"]["decision_id"] == "fix-1" and again["coded_by"]["suggested"] == ["I10"]
    assert again["procedures"] == rec["procedures"] and again["patient_age"] == 58
    assert out.agreement.added == 1
    assert on_decision(correction(("I10", "E78.5")), store, coder, cm).records == out.records
    second = on_decision(correction(("I10",), event_id="fix-2"), store, coder, cm)
    assert second.records[0][1]["event_id"] == "fix-2:coded"


def test_a_correction_after_a_coders_release_codes_again_where_a_plain_decision_is_refused(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter()
    kind, review = coded(enc, coder, cm)
    on_encounter(enc, kind, review, store, coder, cm)
    on_decision(decision(), store, coder, cm)
    with pytest.raises(NotApplicable, match="corrects its claim"):
        on_decision(decision(("R69",), event_id="dec-2"), store, coder, cm)
    [(_, again)] = on_decision(correction(("R53.83",)), store, coder, cm).records
    assert [d["code"] for d in again["diagnoses"]] == ["R53.83"]
    assert again["source_event_id"] == "fix-1"


def test_a_correction_codes_the_latest_version_of_a_re_sent_encounter(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter(("essential hypertension",))
    on_encounter(enc, *coded(enc, coder, cm), store, coder, cm)
    resent = encounter(("essential hypertension",), event_id="enc-ev-2",
                       charges=[*enc["charges"], {"line": 2, "charge_code": "CM100113", "units": 2,
                                                  "unit_price_cents": 14500, "service_date": DOS}])
    on_encounter(resent, *coded(resent, coder, cm), store, coder, cm)
    [(_, again)] = on_decision(correction(("I10", "E78.5")), store, coder, cm).records
    assert [p["line"] for p in again["procedures"]] == [1, 2]


@pytest.mark.parametrize("case", ["never coded", "in review", "another claim", "bad code"])
def test_a_correction_that_cannot_apply_is_refused_with_the_reason(coder, cm, case):
    store, enc = DictStore(CODING_PENDING), encounter()
    if case != "never coded":
        on_encounter(enc, *coded(enc, coder, cm), store, coder, cm)
    if case in ("another claim", "bad code"):
        on_decision(decision(), store, coder, cm)
    dec = {"never coded": correction(("I10",)), "in review": correction(("I10",)),
           "another claim": correction(("I10",), corrects_claim_id="CLM-E2"),
           "bad code": correction(("I10",), procedures=[{"line": 9, "procedure_code": "99214",
                                                          "modifiers": [], "charge_code": None}])}
    why = {"never coded": "holds no coded encounter", "in review": "in coding review",
           "another claim": "encounter's claim is CLM-E1", "bad code": "line 9"}[case]
    with pytest.raises(NotApplicable, match=why):
        on_decision(dec[case], store, coder, cm)


def test_a_correction_is_accepted_until_the_longest_timely_filing_limit_after_the_date_of_service(
        coder, cm):
    assert CORRECTION_WINDOW_DAYS == max(p.timely_filing_days for p in PAYERS.values()) == 365
    store, enc = DictStore(CODING_PENDING), encounter(("essential hypertension",))
    on_encounter(enc, *coded(enc, coder, cm), store, coder, cm)
    last_day = T0 + timedelta(days=CORRECTION_WINDOW_DAYS)
    [(_, again)] = on_decision(correction(("I10", "E78.5"), decided_at=last_day), store, coder,
                               cm).records
    assert again["source_event_id"] == "fix-1"
    late = correction(("I10",), event_id="fix-2", decided_at=last_day + timedelta(days=1))
    with pytest.raises(NotApplicable, match=f"more than 365 days after the date of service \\({DOS}\\)"):
        on_decision(late, store, coder, cm)


def test_an_inpatient_stays_correction_window_starts_at_discharge(coder, cm):
    stay = encounter(encounter_class="INPATIENT", service_start=date(2026, 1, 2),
                     service_end=date(2026, 1, 20))
    at = datetime(2027, 1, 20, 23, 0, tzinfo=UTC)  # 365 days after discharge, 383 after admission
    assert too_late_to_correct(stay, correction(("I10",), decided_at=at)) is None
    assert "(2026-01-20)" in too_late_to_correct(
        stay, correction(("I10",), decided_at=at + timedelta(days=1)))


def test_a_plain_decision_on_an_auto_coded_encounter_still_waits_for_it_to_be_sent_again(coder, cm):
    store, enc = DictStore(CODING_PENDING), encounter(("essential hypertension",))
    on_encounter(enc, *coded(enc, coder, cm), store, coder, cm)
    assert on_decision(decision(("I10", "E78.5")), store, coder, cm).records == []
    resent = enc | {"event_id": "enc-ev-2"}
    out = on_encounter(resent, *coded(resent, coder, cm), store, coder, cm)
    assert [d["code"] for d in out.records[-1][1]["diagnoses"]] == ["I10", "E78.5"]
    assert out.records[-1][1]["event_id"] == "enc-ev-2:coded"


def test_a_held_claim_corrected_by_a_decision_is_rebuilt_as_its_next_version(coder, cm):
    from processors.claims import versions
    from processors.claims.rules import build_claim

    enc = encounter(("benign prostatic hyperplasia",), patient_sex="F")
    enc["diagnoses"][0]["code"] = "N40.0"  # the source's code: a sex conflict on this patient
    store, claims = DictStore(CODING_PENDING), DictStore(CLAIM_STATE)
    kind, rec = coded(enc, coder, cm)
    assert kind == "coded"
    on_encounter(enc, kind, rec, store, coder, cm)
    first = versions.version_claim(build_claim(rec, coder, cm), claims)
    assert first["status"] == "HELD" and "SEX_CONFLICT" in {e["edit"] for e in first["edits"]}

    [(_, again)] = on_decision(correction(("R39.15",)), store, coder, cm).records
    rebuilt = versions.version_claim(build_claim(again, coder, cm), claims)
    assert (rebuilt["version"], rebuilt["frequency_code"], rebuilt["status"]) == (2, "1", "CLEAN")
    assert rebuilt["diagnosis_codes"] == ["R39.15"] and rebuilt["event_id"] == "fix-1:claim:v2"
    assert rebuilt["total_charge_cents"] == first["total_charge_cents"] == 14500
