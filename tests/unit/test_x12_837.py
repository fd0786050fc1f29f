"""837P / 837I out: every file pyx12 accepts with zero errors, and the pipeline's 837 reader
(producers.x12.claims837, the 837-in path) reads back the same claims."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from infra.settings import Settings
from processors.claims.rules import build_claim
from sinks.x12.build837 import Envelope, money, unsendable, write_837
from sinks.x12.directory import PlaceholderDirectory, Practitioner
from sinks.x12.validate import validate
from tests.samples import x12_samples
from tests.sent837 import carried, read_back

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
D = date(2026, 3, 2)
DIRECTORY = PlaceholderDirectory.from_settings(Settings())


def envelope(n: int = 1) -> Envelope:
    return Envelope("RCMSYNTH", "CLEARINGHOUSE", "SYNTHETIC CLEARINGHOUSE", n, n, n, T0)


def proc(line, charge_code="CM100113", code="99213", cents=14500, units=1, modifiers=(),
         rev="0510", day=D):
    return {"line": line, "charge_code": charge_code, "procedure_code": code,
            "modifiers": list(modifiers), "revenue_code": rev, "units": units,
            "charge_cents": cents, "service_date": day}


def coded(n=9, codes=("E11.9", "I10"), procedures=None, **over):
    rec = {
        "event_id": f"ev-{n}:coded", "source_event_id": f"ev-{n}", "source_emitted_at": T0,
        "encounter_id": f"E{n:07d}", "account_id": "A0000000424", "occurred_at": T0,
        "patient_age": 61, "patient_sex": "M", "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL",
        "provider_npi": "1234567893", "facility_id": "CLINIC-01", "encounter_class": "OFFICE",
        "service_start": D, "service_end": D,
        "diagnoses": [{"sequence": i, "code": c, "confidence": 1.0, "evidence": c}
                      for i, c in enumerate(codes, start=1)],
        "procedures": procedures if procedures is not None else [
            proc(1, modifiers=["25"]), proc(2, "CM100303", "36415", 2501, units=2, rev="0300")],
    }
    rec.update(over)
    return rec


@pytest.fixture(scope="module")
def professional(coder):
    claims = [
        build_claim(coded(1), coder),
        build_claim(coded(2, codes=("J18.9", "I10", "E11.9", "E78.5", "K21.9"), payer_id="MEDICARE",
                          plan_type="MEDICARE", provider_npi="1234500006"), coder),
        build_claim(coded(3, payer_id="MEDICAID", plan_type="MEDICAID",
                          procedures=[proc(1, cents=1)]), coder),
    ]
    assert [c["status"] for c in claims] == ["CLEAN"] * 3
    return claims


@pytest.fixture(scope="module")
def institutional(coder):
    stay = coded(
        4, codes=("K35.80", "E11.9", "I10"), encounter_class="INPATIENT", facility_id="HOSP-01",
        payer_id="MEDICARE", plan_type="MEDICARE", service_end=date(2026, 3, 5),
        procedures=[proc(1, "CM-RB", "", 300000, units=3, rev="0120"),
                    proc(2, "CM-PH", "", 50055, rev="0250"),
                    proc(3, "CM100301", "80053", 18500, rev="0301")],
        procedures_pcs=[{"sequence": 2, "code": "0DJ08ZZ"}, {"sequence": 1, "code": "0DTJ4ZZ"}],
        drg={"drg": "343", "mdc": "06", "description": None, "grouper_version": "430"})
    emergency = coded(5, encounter_class="EMERGENCY", facility_id="HOSP-01",
                      procedures=[proc(1, "CM-ED4", "99284", 90000, modifiers=["25"], rev="0450")])
    claims = [build_claim(stay, coder), build_claim(emergency, coder)]
    assert [c["status"] for c in claims] == ["CLEAN"] * 2
    assert claims[0]["pcs_codes"] == ["0DTJ4ZZ", "0DJ08ZZ"] and claims[0]["drg"]["drg"] == "343"
    return claims


def seg_ids(text: str) -> list[str]:
    return ["*".join(s.strip().split("*")[:2]) for s in text.split("~") if s.strip()]


def test_money_goes_from_cents_to_x12_decimals_without_floats():
    assert [money(c) for c in (14500, 14550, 14501, 1, 0, 123456789012)] == [
        "145", "145.5", "145.01", "0.01", "0", "1234567890.12"]


def test_professional_claims_make_an_837p_pyx12_accepts(professional):
    text = write_837(professional, "PROFESSIONAL", envelope(), DIRECTORY)
    assert validate(text).errors == []
    assert "GS*HC*RCMSYNTH*CLEARINGHOUSE*20260302*1400*1*X*005010X222A1~" in text
    assert "CLM*CLM-E0000001*170.01***11:B:1*Y*A*Y*Y~" in text
    assert "SV1*HC:99213:25*145*UN*1***1:2~" in text
    assert "HI*ABK:J189*ABF:I10*ABF:E119*ABF:E785*ABF:K219~" in text
    assert "SV1*HC:99213*0.01*UN*1***1:2~" in text.replace("CLM-E0000003", "")  # one cent
    # the organisation bills (2010AA); each claim's practitioner renders (2310B)
    assert seg_ids(text).count("HL*1") == 1
    assert "NM1*85*2*RCM SYNTHETIC HOSPITAL*****XX*1234567893~" in text
    rendering = DIRECTORY.practitioner("1234500006")
    assert f"NM1*82*1*{rendering.last_name}*PROVIDER****XX*1234500006~" in text


def test_a_local_provider_id_gets_its_npi_from_the_directory_or_leaves_the_practitioner_out(coder):
    # HL7 feeds name doctors by local ids (issue 9, root cause 2): the claim keeps the hospital's id;
    # the 837 carries an NPI only, from the billing directory, else no 2310B (2010AA renders).
    claims = [build_claim(coded(6, provider_npi="PROV001"), coder),
              build_claim(coded(7, provider_npi="1122334"), coder)]
    assert [(c["status"], c["billing_provider_npi"]) for c in claims] == [
        ("CLEAN", "PROV001"), ("CLEAN", "1122334")]
    text = write_837(claims, "PROFESSIONAL", envelope(), DIRECTORY)
    assert validate(text).errors == []
    assert "NM1*82" not in text and "PROV001" not in text and "1122334" not in text

    @dataclass(frozen=True)
    class ProviderMaster(PlaceholderDirectory):
        def practitioner(self, provider_id: str) -> Practitioner:
            return Practitioner("HOUSE", "GREGORY", {"PROV001": "1234500006"}.get(provider_id))

    text = write_837(claims, "PROFESSIONAL", envelope(), ProviderMaster(DIRECTORY.provider))
    assert validate(text).errors == []
    assert text.count("NM1*82") == 1 and "NM1*82*1*HOUSE*GREGORY****XX*1234500006~" in text


def test_professional_claims_read_back_as_the_same_claims(professional):
    parsed = read_back(write_837(professional, "PROFESSIONAL", envelope(7), DIRECTORY))
    assert (parsed.version, parsed.isa13, parsed.gs06, parsed.st02) == (
        "005010X222A1", "000000007", "7", ["0007"])
    back = {c["claim_id"]: c for c in parsed.claims}
    assert back == {c["claim_id"]: carried(c) for c in professional}
    assert back["CLM-E0000002"]["lines"][0]["diagnosis_pointers"] == [1, 2, 3, 4]
    assert back["CLM-E0000002"]["billing_provider_npi"] == "1234500006"  # 2310B, not 2010AA
    assert {c["account_id"] for c in parsed.claims} == {"A0000000424"}  # REF*EA


def test_institutional_claims_make_an_837i_pyx12_accepts(institutional):
    text = write_837(institutional, "INSTITUTIONAL", envelope(), DIRECTORY)
    assert validate(text).errors == []
    assert "ST*837*0001*005010X223A2~" in text
    stay = text[text.index("CLM*CLM-E0000004"):text.index("CLM*CLM-E0000005")]
    for expected in ("CLM*CLM-E0000004*3685.55***11:A:1**A*Y*Y~", "DTP*434*RD8*20260302-20260305~",
                     "DTP*435*D8*20260302~", "CL1*9*9*01~", "HI*ABK:K3580~", "HI*DR:343~",
                     "HI*ABF:E119*ABF:I10~", "HI*BBR:0DTJ4ZZ:D8:20260302~",
                     "HI*BBQ:0DJ08ZZ:D8:20260302~", "SV2*0120**3000*UN*3~",
                     "SV2*0301*HC:80053*185*UN*1~"):
        assert expected in stay
    visit = text[text.index("CLM*CLM-E0000005"):]
    assert "CLM*CLM-E0000005*900***13:A:1**A*Y*Y~" in visit and "CL1***01~" in visit
    assert "SV2*0450*HC:99284:25*900*UN*1~" in visit and "HI*DR" not in visit
    assert "NM1*71*1*PLACEHOLDER" in stay and stay.count("XX*1234567893~") == 1  # attending


def test_institutional_claims_read_back_with_pcs_codes_and_drg(institutional):
    parsed = read_back(write_837(institutional, "INSTITUTIONAL", envelope(), DIRECTORY))
    assert parsed.claims == [carried(c) for c in institutional]
    stay = parsed.claims[0]
    assert stay["pcs_codes"] == ["0DTJ4ZZ", "0DJ08ZZ"] and stay["drg"] == "343"
    assert stay["diagnosis_codes"] == ["K35.80", "E11.9", "I10"]
    assert stay["total_charge_cents"] == 368555 and stay["plan_type"] == "MEDICARE"


def test_many_claims_in_one_file_stay_valid(coder):
    claims = [build_claim(coded(100 + n, provider_npi=npi), coder)
              for n, npi in enumerate(["1234567893", "1234500006"] * 20)]
    text = write_837(claims, "PROFESSIONAL", envelope(123456789), DIRECTORY)
    assert validate(text).errors == []
    assert "IEA*1*123456789~" in text
    assert read_back(text).claims == [carried(c) for c in claims]


def test_held_self_pay_and_unrepresentable_claims_do_not_go_out(coder, professional):
    held = build_claim(coded(20, codes=("E11",)), coder)
    assert held["status"] == "HELD" and unsendable(held) == "not CLEAN"
    self_pay = build_claim(coded(21, payer_id="SELFPAY", plan_type="SELF_PAY"), coder)
    assert unsendable(self_pay) == "self-pay: no payer to bill"
    too_many = dict(professional[0], diagnosis_codes=[f"E11.{n}" for n in range(13)])
    assert unsendable(too_many) == "more than 12 diagnoses"
    with pytest.raises(ValueError, match="not CLEAN"):
        write_837([held], "PROFESSIONAL", envelope(), DIRECTORY)
    with pytest.raises(ValueError, match="not INSTITUTIONAL"):
        write_837(professional, "INSTITUTIONAL", envelope(), DIRECTORY)


def test_placeholder_subscribers_are_stable_pseudonyms_and_claim_no_sex():
    one = DIRECTORY.subscriber("A0000000424", "MEDICARE")
    assert one == DIRECTORY.subscriber("A0000000424", "MEDICARE")
    assert one != DIRECTORY.subscriber("A0000000018", "MEDICARE")
    assert one.last_name.startswith("PLACEHOLDER") and one.gender == "U"
    assert "0424" not in one.member_id + one.last_name  # derived, not the account id itself


def test_billing_provider_comes_from_rcm_billing_settings(monkeypatch, professional):
    monkeypatch.setenv("RCM_BILLING_NAME", "Mercy*General~Hospital")
    monkeypatch.setenv("RCM_BILLING_TAX_ID", "123456789")
    text = write_837(professional[:1], "PROFESSIONAL", envelope(),
                     PlaceholderDirectory.from_settings(Settings()))
    assert "NM1*85*2*MERCY GENERAL HOSPITAL*****XX*1234567893~" in text
    assert "REF*EI*123456789~" in text and validate(text).errors == []


def test_pyx12_reports_a_broken_file(professional):
    text = write_837(professional[:1], "PROFESSIONAL", envelope(), DIRECTORY)
    broken = validate(text.replace("HI*ABK:", "HI*XX:"))
    assert not broken.ok and any("HI" in e for e in broken.errors)
    assert not validate(text.replace("*005010X222A1~", "*005010X999A1~", 1)).ok


# badx12's 837P samples (2004-2006 guide examples): (claims, lines, total cents, pyx12 errors in the
# original). Every one codes diagnoses in ICD-9-CM, which the 837 reader refuses
# (tests/unit/test_x12_837_in.py); read with the qualifiers made ICD-10 (ABK/ABF), as here.
SAMPLES = {
    "X222-COB-claim-from-billing-provider-to-payer-a.edi": (1, 3, 7904, 0),
    "X222-COB-claim-from-billing-provider-to-payer-b.edi": (1, 3, 7904, 0),
    "X222-COB-claim-from-payer-a-to-payer-b-in-payer-to-payer.edi": (1, 3, 7904, 0),
    "X222-ambulance.edi": (1, 4, 76650, 0),
    "X222-anesthesia.edi": (1, 1, 82700, 0),
    "X222-chiropractic.edi": (1, 1, 14550, 0),
    "X222-commercial-health-insurance.edi": (1, 4, 10000, 0),
    "X222-drug-administered-in-the-physician-office.edi": (1, 2, 10337, 0),
    "X222-encounter.edi": (1, 4, 10000, 0),
    "X222-home-infusion-therapy-pharmacy-(adjudicated-with-HCPCS-in-loop-2400-or-NDC-in-loop-2410).edi": (1, 6, 223293, 0),
    "X222-home-infusion-therapy-pharmacy-(adjudicated-with-NDC-in-loop-2410).edi": (1, 6, 223293, 0),
    "X222-medicare-secondary-payer-COB.edi": (1, 1, 12000, 0),
    "X222-out-of-network-repriced-claim.edi": (1, 1, 25271, 0),
    "X222-oxygen.edi": (1, 2, 52024, 2),
    "X222-ppo-repriced-claim.edi": (1, 2, 2875, 0),
    "X222-wheelchair.edi": (1, 1, 7500, 1),
}


def icd10(text: str) -> str:
    return re.sub(r"\*B([KF])(?=[:>^])", r"*AB\1", text)


def test_badx12_837p_samples_read_with_their_claims_lines_and_charges():
    files = {p.name: p for p in x12_samples("X222")}
    assert sorted(files) == sorted(SAMPLES)
    for name, (count, lines, cents, pyx12_errors) in SAMPLES.items():
        text = files[name].read_text()
        assert len(validate(text).errors) == pyx12_errors, name  # oxygen, wheelchair: PWK02 'AD'
        parsed = read_back(icd10(text))
        assert len(parsed.claims) == count, name
        [one] = parsed.claims
        assert len(one["lines"]) == lines and one["total_charge_cents"] == cents, name
        assert sum(line["charge_cents"] for line in one["lines"]) == cents, name


def test_a_secondary_claims_primary_adjudication_is_read_from_2320_and_2430():
    """The guide's Medicare-secondary example: AMT*D paid, the 2430 CAS of the primary's line
    summed per group and reason, the patient's part from the PR adjustments (no AMT*EAF), the
    date from 2430 DTP*573."""
    [path] = [p for p in x12_samples("X222") if p.name == "X222-medicare-secondary-payer-COB.edi"]
    [one] = read_back(icd10(path.read_text())).claims
    assert (one["payer_sequence"], one["payer_id"]) == ("SECONDARY", "10234")  # 2010BB NM1*PR
    assert one["other_payer"] == {
        "payer_id": "59999", "plan_type": "COMMERCIAL", "payer_claim_control_number": "",
        "adjudicated_on": date(2005, 1, 28), "paid_cents": 8000, "patient_responsibility_cents": 1500,
        "adjustments": [{"group_code": "CO", "reason_code": "42", "amount_cents": 2500},
                        {"group_code": "PR", "reason_code": "2", "amount_cents": 1500}]}
    [cob_b] = read_back(icd10(next(p for p in x12_samples("X222") if p.name.endswith(
        "billing-provider-to-payer-b.edi")).read_text())).claims
    assert (cob_b["other_payer"]["paid_cents"], cob_b["other_payer"]["patient_responsibility_cents"],
            cob_b["other_payer"]["adjustments"]) == (3915, 3689, [
                {"group_code": "CO", "reason_code": "42", "amount_cents": 300},
                {"group_code": "PR", "reason_code": "1", "amount_cents": 2189},
                {"group_code": "PR", "reason_code": "2", "amount_cents": 1500}])
    [cob_a] = read_back(icd10(next(p for p in x12_samples("X222") if p.name.endswith(
        "billing-provider-to-payer-a.edi")).read_text())).claims
    assert (cob_a["payer_sequence"], cob_a["other_payer"]) == ("PRIMARY", None)  # S is the next payer


def test_badx12_samples_rewritten_by_the_writer_are_valid_and_keep_every_carried_field():
    for path in x12_samples("X222"):
        parsed = read_back(icd10(path.read_text()))
        for claim in parsed.read:
            text = write_837([dict(claim, status="CLEAN")], "PROFESSIONAL", envelope(), DIRECTORY)
            assert validate(text).errors == [], path.name
            [back] = read_back(text).claims
            assert back == carried(claim, account_id=claim["account_id"]), path.name


def test_the_synthetic_hospitals_claims_all_go_out_valid_and_round_trip(coder, cm):
    from processors.coding.rules import code_encounter, validate_encounter
    from producers.synthetic import generate
    from schemas import codec

    claims = []
    for out in generate(1200, 5, start=date(2026, 1, 5)).records:
        if out.topic.name != "encounters" or out.bad:
            continue
        enc = codec.decode_for(out.topic, out.value)
        if not validate_encounter(enc, cm, coder):
            kind, rec = code_encounter(enc, cm, coder, 0.80)
            if kind == "coded":
                claims.append(build_claim(rec, coder, cm))
    for claim_type in ("PROFESSIONAL", "INSTITUTIONAL"):
        group = [c for c in claims if c["claim_type"] == claim_type and unsendable(c) is None]
        assert len(group) > 50
        text = write_837(group, claim_type, envelope(), DIRECTORY)
        assert validate(text).errors == []
        assert read_back(text).claims == [carried(c) for c in group]
    assert any(c.get("drg") and c["status"] == "CLEAN" for c in claims)
