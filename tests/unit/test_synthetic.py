"""The synthetic hospital: reproducible, decodable, realistic enough, and its ground truth is right."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest

from processors.chargemaster import load_charge_master
from processors.coding.em import em_problems, review_reasons
from processors.denials.appeals import validate_appeal
from producers import bad as badrec
from producers.phrases import PHRASES, VAGUE
from producers.synthetic import generate
from schemas import codec
from schemas.accounts import is_valid_account_id
from schemas.topics import APPEALS, ENCOUNTERS, INPUTS, PAYMENTS, REMITTANCES

START = date(2026, 1, 5)
# The spec's balance semantics, restated here on purpose instead of importing the ledger rules.
DENIAL_CARCS = {"4", "11", "16", "18", "22", "27", "29", "31", "50", "96", "97", "109", "146",
                "151", "167", "197", "204", "234", "252"}
UNDECODABLE = ("garbage", "truncated", "unknown_schema")


@pytest.fixture(scope="module")
def scenario():
    return generate(20_000, 11, start=START)


@pytest.fixture(scope="module")
def good(scenario):
    return [(r.topic, codec.decode_for(r.topic, r.value)) for r in scenario.records if r.bad is None]


def test_the_same_seed_and_start_give_the_same_bytes():
    a, b = generate(2000, 5, start=START), generate(2000, 5, start=START)
    assert a.records == b.records
    assert a.truth == b.truth
    assert generate(2000, 6, start=START).records != a.records


def test_exactly_the_requested_number_of_records_is_emitted(scenario):
    assert len(scenario.records) == 20_000
    assert len(generate(1234, 2, start=START).records) == 1234
    assert scenario.truth["counts"]["records"] == 20_000


def test_every_good_record_decodes_with_its_topics_schema(scenario, good):
    assert len(good) == 20_000 - scenario.truth["counts"]["dead_letters"]
    for rec in scenario.records:
        if rec.bad is None:
            assert rec.key == codec.decode_for(rec.topic, rec.value)["account_id"].encode()


def test_records_that_do_not_decode_fail_with_the_right_kind(scenario):
    expected = {"garbage": "MALFORMED", "truncated": "MALFORMED", "unknown_schema": "UNKNOWN_SCHEMA"}
    seen = 0
    for rec in scenario.records:
        if rec.bad in expected:
            with pytest.raises(codec.DecodeError) as err:
                codec.decode_for(rec.topic, rec.value)
            assert err.value.kind == expected[rec.bad]
            seen += 1
    assert seen > 0


def test_every_bad_kind_is_present_on_each_of_its_topics_from_a_thousand_events(scenario):
    sc = generate(1000, 3, start=START)
    counts = sc.truth["counts"]["bad_by_kind"]
    assert set(counts) == set(badrec.KINDS)
    big = scenario.truth["counts"]["bad_by_kind"]  # 20,000 events
    for kind, (_category, topics) in badrec.KINDS.items():
        assert set(big[kind]) == {t.name for t in topics}, kind


def _breaks_its_rule(kind: str, r: dict, cm) -> bool:
    if kind == "invalid_diagnosis_code":
        return any(d["code"] == "ZZZ.99" for d in r["diagnoses"])
    if kind == "unknown_charge_code":
        return any(c["charge_code"] not in cm for c in r["charges"])
    if kind == "zero_units":
        return any(c["units"] <= 0 for c in r["charges"])
    if kind == "negative_price":
        return any(c["unit_price_cents"] < 0 for c in r["charges"])
    if kind == "unbalanced_remittance_line":
        return any(ln["charge_cents"] != ln["paid_cents"] + sum(a["amount_cents"] for a in ln["adjustments"])
                   for ln in r["lines"])
    if kind == "negative_paid":
        return any(ln["paid_cents"] < 0 for ln in r["lines"])
    if kind == "nonpositive_payment":
        return r["amount_cents"] <= 0
    if kind == "blank_account_id":
        return not is_valid_account_id(r["account_id"])
    raise AssertionError(kind)


def test_decodable_bad_records_break_the_rule_their_kind_names(scenario):
    cm = load_charge_master()
    for rec in scenario.records:
        if rec.bad is not None and rec.bad not in UNDECODABLE:
            assert _breaks_its_rule(rec.bad, codec.decode_for(rec.topic, rec.value), cm), rec.bad


def test_good_records_are_valid(good):
    cm = load_charge_master()
    codes = {p.code for p in PHRASES}
    for topic, r in good:
        assert is_valid_account_id(r["account_id"])
        if topic is ENCOUNTERS:
            assert all(c["charge_code"] in cm and c["units"] > 0 and c["unit_price_cents"] >= 0
                       for c in r["charges"])
            assert all(d["code"] is None or d["code"] in codes for d in r["diagnoses"])
        elif topic is REMITTANCES:
            for ln in r["lines"]:
                assert ln["paid_cents"] >= 0
                assert ln["charge_cents"] == ln["paid_cents"] + sum(a["amount_cents"] for a in ln["adjustments"])
            assert r["total_paid_cents"] == sum(ln["paid_cents"] for ln in r["lines"])
            assert r["claim_id"].startswith("CLM-E")
        elif topic is APPEALS:
            assert validate_appeal(r) == []
        else:
            assert r["amount_cents"] > 0


def test_patient_age_and_sex_fit_every_diagnosis_phrase(good):
    by_text = {}
    for p in PHRASES:
        by_text.setdefault(p.text, []).append(p)
    for topic, r in good:
        if topic is ENCOUNTERS:
            for d in r["diagnoses"]:
                if d["text"] in VAGUE:
                    continue
                assert any(p.min_age <= r["patient_age"] <= p.max_age and p.sex in ("", r["patient_sex"])
                           for p in by_text[d["text"]]), (d["text"], r["patient_age"], r["patient_sex"])


def test_inpatient_stays_group_and_pass_the_code_editor_with_their_phrases_codes(good):
    """A stay's own codes (each statement's phrase) give a DRG and no finding a coder must fix:
    the stays the coder sends to review go there for their statements, not for the grouper."""
    from processors.coding import drg

    by_text = {p.text: p.code for p in PHRASES}
    stays = [r for topic, r in good if topic is ENCOUNTERS and r["encounter_class"] == "INPATIENT"]
    assert len(stays) > 300
    for r in stays:
        codes = [d["code"] or by_text[d["text"]]
                 for d in sorted(r["diagnoses"], key=lambda d: d["sequence"]) if d["text"] not in VAGUE]
        if not codes:
            continue
        args = (codes[0], codes[1:], [p["code"] for p in r["procedures_pcs"]], r["patient_age"],
                r["patient_sex"], r["discharge_status"], r["service_end"])
        assert drg.group(*args)["drg"] not in drg.UNGROUPABLE, (r["encounter_id"], codes)
        assert drg.mce_edits(*args) == [], (r["encounter_id"], codes)


def test_a_precoded_surgical_principal_gets_its_procedure_on_the_side_it_names():
    from producers.encounters import inpatient_extras

    def pcs(code):
        return [p["code"] for p in inpatient_extras("E1", [{"code": code}])["procedures_pcs"]][:1]

    assert pcs("K35.80") == ["0DTJ4ZZ"]
    assert pcs("M17.11") == ["0SRC0J9"] and pcs("M17.12") == ["0SRD0J9"]
    assert "0SRC0J9" not in pcs("M17.0") and "0SRD0J9" not in pcs("M17.0")


def test_class_and_payer_mixes_are_near_the_published_ones(good):
    encs = [r for t, r in good if t is ENCOUNTERS]
    classes = Counter(r["encounter_class"] for r in encs)
    plans = Counter(r["plan_type"] for r in encs)
    share = lambda c, k: c[k] / len(encs)
    assert abs(share(classes, "OFFICE") - 0.55) < 0.03
    assert abs(share(classes, "INPATIENT") - 0.05) < 0.02
    assert abs(share(plans, "MEDICARE") - 0.35) < 0.04
    assert abs(share(plans, "SELF_PAY") - 0.07) < 0.02
    assert 0.01 < sum(any(d["text"] in VAGUE for d in r["diagnoses"]) for r in encs) / len(encs) < 0.06


def test_em_fields_agree_with_the_billed_level_except_on_the_encounters_counted_for_review(
        scenario, good):
    cm = load_charge_master()
    visits = [r for t, r in good if t is ENCOUNTERS and r["encounter_class"] in ("OFFICE", "EMERGENCY")]
    documented = [r for t, r in good if t is ENCOUNTERS and r["em"] is not None]
    assert {r["encounter_class"] for r in documented} == {"OFFICE", "EMERGENCY"}
    assert len(documented) / len(visits) > 0.75
    assert not any(em_problems(r["encounter_class"], r["em"]) for r in documented)
    mismatched = {r["encounter_id"] for r in documented if review_reasons(
        r["encounter_class"], r["em"], [(c["line"], cm[c["charge_code"]].procedure_code)
                                        for c in r["charges"]])}
    assert len(mismatched) == scenario.truth["counts"]["em_review_encounters"]
    assert 0.015 < len(mismatched) / len(documented) < 0.05
    # They wait in coding review: never vague as well (counted once), never claimed or remitted.
    vague = {r["encounter_id"] for r in documented if any(d["text"] in VAGUE for d in r["diagnoses"])}
    remitted = {r["claim_id"].removeprefix("CLM-") for t, r in good if t is REMITTANCES}
    assert not mismatched & vague and not mismatched & remitted


def test_denial_rate_of_claims_is_between_8_and_14_percent(scenario, good):
    remits = [r for t, r in good if t is REMITTANCES]
    denied = [r for r in remits if any(a["reason_code"] in DENIAL_CARCS and a["group_code"] != "PR"
                                       for ln in r["lines"] for a in ln["adjustments"])]
    assert 0.08 <= len(denied) / len(remits) <= 0.14
    assert len(denied) == scenario.truth["counts"]["denied_claims"]
    assert any(r["claim_status"] == "4" for r in denied)
    assert any(r["claim_status"] == "1" for r in denied)
    eligibility = sum(1 for r in denied if r["lines"][0]["adjustments"]
                      and r["lines"][0]["adjustments"][0]["reason_code"] in ("27", "31", "109"))
    assert 0.15 < eligibility / len(denied) < 0.40


def _recompute(good) -> tuple[dict, int, int]:
    """The balance semantics of the spec, summed from the decoded good records: a re-sent
    (corrected) encounter charges the difference; a primary remittance leaving PR on an account
    with a secondary payer moves it back to insurance (the secondary claim); on the secondary's
    835, OA-23 (the primary's effect) posts nothing."""
    acc: dict[str, list[int]] = {}
    denials = denial_cents = 0
    charged: dict[str, int] = {}
    secondary = {r["encounter_id"]: r.get("secondary_payer_id") for t, r in good if t is ENCOUNTERS}
    for topic, r in good:
        b = acc.setdefault(r["account_id"], [0, 0, 0])  # insurance, patient, charges
        if topic is ENCOUNTERS:
            total = sum(c["units"] * c["unit_price_cents"] for c in r["charges"])
            amount, charged[r["encounter_id"]] = total - charged.get(r["encounter_id"], 0), total
            b[1 if r["plan_type"] == "SELF_PAY" else 0] += amount
            b[2] += amount
        elif topic is REMITTANCES:
            b[0] -= sum(ln["paid_cents"] for ln in r["lines"])
            adjustments = [a for ln in r["lines"] for a in ln["adjustments"]] + r["claim_adjustments"]
            pr = sum(a["amount_cents"] for a in adjustments if a["group_code"] == "PR")
            if r["claim_status"] == "1" and pr and secondary.get(r["claim_id"][4:]):
                b[0] += pr  # billed to the secondary: TRANSFER_TO_SECONDARY
                b[1] -= pr
            for a in adjustments:
                group, carc, amount = a["group_code"], a["reason_code"], a["amount_cents"]
                if carc == "23" and r["claim_id"].endswith("-S"):
                    continue
                if group == "PR":
                    b[0] -= amount
                    b[1] += amount
                elif group in ("CO", "PI", "OA") and carc in DENIAL_CARCS:
                    denials += 1
                    denial_cents += amount
                else:  # contractual or other: both leave the insurance part
                    b[0] -= amount
        elif topic is APPEALS:  # a denial written off leaves open insurance
            b[0] -= r["amount_cents"] or 0 if r["action"] == "WRITTEN_OFF" else 0
        else:
            b[1] += -r["amount_cents"] if r["kind"] == "PAYMENT" else r["amount_cents"]
    return acc, denials, denial_cents


def test_ground_truth_equals_a_recount_of_the_emitted_good_records(scenario, good):
    acc, denials, denial_cents = _recompute(good)
    truth = scenario.truth
    assert set(acc) == set(truth["accounts"])
    for account, (ins, pat, charges) in acc.items():
        t = truth["accounts"][account]
        assert (t["insurance_cents"], t["patient_cents"], t["charges_cents"]) == (ins, pat, charges)
        assert t["insurance_cents"] + t["patient_cents"] == t["total_cents"]
    assert truth["counts"]["denial_adjustments"] == denials > 0
    assert truth["counts"]["denial_cents"] == denial_cents
    per_topic = Counter(r.topic.name for r in scenario.records)
    assert truth["counts"]["records_by_topic"] == {t.name: per_topic[t.name] for t in INPUTS}
    assert truth["counts"]["payments"] + truth["counts"]["refunds"] == sum(1 for t, _ in good if t is PAYMENTS)
    assert truth["counts"]["refunds"] > 0


def test_denials_are_appealed_or_written_off_in_time_and_overturned_ones_are_paid(scenario, good):
    from processors.denials.rules import flag_denials

    denials = {d["denial_id"]: d for t, r in good if t is REMITTANCES for d in flag_denials(r)}
    steps: dict[str, list[str]] = {}
    for topic, r in good:
        if topic is APPEALS:
            den = denials[r["denial_id"]]  # every appeal names a denial the stage will flag
            assert (r["account_id"], r["claim_id"]) == (den["account_id"], den["claim_id"])
            if r["action"] == "FILED":
                assert r["occurred_at"].date() <= den["appeal_deadline"]
            if r["action"] == "WRITTEN_OFF":
                assert r["amount_cents"] == den["amount_cents"]
            steps.setdefault(r["denial_id"], []).append(r["action"])
    kinds = Counter(tuple(s) for s in steps.values())
    assert set(kinds) <= {("FILED", "OVERTURNED"), ("FILED", "UPHELD", "WRITTEN_OFF"),
                          ("WRITTEN_OFF",), ("FILED",), ("FILED", "UPHELD")}
    assert kinds[("FILED", "OVERTURNED")] and kinds[("FILED", "UPHELD", "WRITTEN_OFF")]
    assert kinds[("WRITTEN_OFF",)] and len(steps) < len(denials)  # some are left to the timers
    counts = scenario.truth["counts"]
    assert counts["appeal_events"] == sum(map(len, steps.values()))
    assert counts["repayment_remittances"] > 0 and counts["denial_write_off_cents"] > 0


def test_some_remittances_reach_the_stream_before_their_encounter(scenario, good):
    seen_encounters, early = set(), 0
    for topic, r in good:
        if topic is ENCOUNTERS:
            seen_encounters.add(r["encounter_id"])
        elif topic is REMITTANCES and r["claim_id"][4:].removesuffix("-S") not in seen_encounters:
            early += 1
    assert early == scenario.truth["counts"]["out_of_order_remittances"] > 0
    assert early / scenario.truth["counts"]["remittances"] < 0.06


def test_no_money_is_ever_a_float(scenario, good, tmp_path):
    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert not isinstance(value, float)

    for _topic, r in good:
        walk(r)
    path = tmp_path / "truth.json"
    scenario.write_truth(path)
    walk(json.loads(path.read_text()))



@pytest.fixture(scope="module")
def fy2027_encounters():
    fy27 = generate(20_000, 11, start=date(2026, 10, 1))
    return fy27, [codec.decode_for(ENCOUNTERS, rec.value) for rec in fy27.records
                  if rec.topic is ENCOUNTERS and rec.bad is None]


def test_fy2027_dates_send_the_codes_fy2027_created(fy2027_encounters):
    _, encs = fy2027_encounters
    dxs = [d for e in encs for d in e["diagnoses"]]
    # "plantar fasciitis" (M72.2, deleted) only from a source still on last year's code set
    assert all(d["code"] == "M72.2" for d in dxs if d["text"] == "plantar fasciitis")
    new = [d for d in dxs if d["text"] in ("plantar fasciitis of right foot", "L foot plantar fasciitis")]
    assert new and all(d["code"] in ("M72.21", "M72.22") for d in new)


def test_a_source_on_last_years_code_set_sends_a_deleted_code_counted_for_coding_review(fy2027_encounters):
    fy27, encs = fy2027_encounters
    stale = [e for e in encs if any(d["code"] == "M72.2" for d in e["diagnoses"])]
    assert stale and all(e["encounter_class"] == "OFFICE" for e in stale)
    assert fy27.truth["counts"]["vague_encounters"] >= len(stale)
