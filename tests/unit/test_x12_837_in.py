"""X12 837P / 837I in: each claim as billed (lines, units, charges, codes, pointers equal the
file's), several claims per loop and interchanges per file, any component separator; ICD-9 and
unbalanced claims refused alone with the segment named; pyx12 accepts the fixtures."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from producers.x12.claims837 import claims
from producers.x12.cli import convert
from producers.x12.tokens import read
from schemas import codec
from schemas import topics as T
from sinks.x12.validate import validate
from tests import x837_files as X
from tests.samples import x12_samples

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
P, I = "005010X222A1", "005010X223A2"
D = date(2025, 11, 3)

PROF_CLAIMS = [  # two claims in one subscriber loop
    "CLM*4000776*245***11:B:1*Y*A*Y*Y", "HI*ABK:I10*ABF:E119*ABF:R0789",
    "LX*1", "SV1*HC:99213:25*145*UN*1***1:2:3", "DTP*472*D8*20251103",
    "LX*2", "SV1*HC:85025*100*UN*2***2", "DTP*472*D8*20251104", "REF*6R*LINE-0002",
    "CLM*HAR123*612.5***11:B:7*Y*A*Y*Y", "REF*F8*PAYER-CCN-9", "HI*ABK:M545",
    "NM1*82*1*SMITH*ANN****XX*1234567893",
    "LX*1", "SV1*HC:00630:QZ:P2*612.5*MJ*95***1", "DTP*472*D8*20251103"]
DEPENDENT_CLAIM = [
    "CLM*9999999999*80***11:B:1*Y*A*Y*Y", "HI*ABK:J069",
    "SBR*S*01*GRP02******MC", "OI***Y*P**Y", "NM1*IL*1*DOE*JOHN****MI*M1", "NM1*PR*2*STATE*****PI*OTHERPAYER",
    "LX*1", "SV1*HC:99212*80*UN*1***1", "DTP*472*D8*20251103"]


def professional(component=":", repetition="^", isa13=101) -> str:
    return X.interchange([*X.header(), *X.subscriber(2, "COMM-ACME"), *PROF_CLAIMS,
                          *X.subscriber(3, "MEDICAID", filing="MC", child=True), *X.patient(4, 3),
                          *DEPENDENT_CLAIM], P, isa13, component=component, repetition=repetition)


INST_CLAIM = [
    "CLM*24000006*1950***11:A:1**A*Y*Y", "DTP*096*TM*1130", "DTP*434*RD8*20251101-20251104",
    "DTP*435*DT*202511010800", "CL1*1*7*01", "REF*EA*MRN001",
    "HI*ABK:J189", "HI*ABJ:R0602", "HI*ABF:E119*ABF:I10", "HI*BBR:0BJ08ZZ:D8:20251102",
    "HI*DR:194", "NM1*71*1*SMITH*JOHN****XX*1234567893",
    "LX*1", "SV2*0120**1200*DA*3",
    "LX*2", "SV2*0450*HC:99284:25*750*UN*1", "DTP*472*D8*20251101"]


def institutional(body=None, isa13=201) -> str:
    return X.interchange([*X.header(), *X.subscriber(2, "MEDICARE", filing="MA"),
                          *(body or INST_CLAIM)], I, isa13)


def parse(text: str) -> tuple[list[dict], list]:
    parsed = read(text, "t.837")
    assert parsed.errors == []
    out, refused = [], []
    for tx in parsed.transactions:
        assert tx.errors == []
        good, bad = claims(tx, NOW)
        out += good
        refused += bad
    return out, refused


def lines(claim):
    return [(ln["line"], ln["procedure_code"], ln["modifiers"], ln["revenue_code"], ln["units"],
             ln["charge_cents"], ln["service_date"], ln["diagnosis_pointers"])
            for ln in claim["lines"]]


def test_837p_claims_are_taken_as_billed_with_lines_units_charges_codes_and_pointers():
    got, refused = parse(professional())
    assert refused == []
    assert [c["claim_id"] for c in got] == ["4000776", "HAR123", "9999999999"]
    one, two, dep = got
    assert (one["account_id"], one["status"], one["claim_type"], one["payer_id"],
            one["plan_type"], one["billing_provider_npi"], one["payer_sequence"]) == (
        "4000776", "SUBMITTED", "PROFESSIONAL", "COMM-ACME", "COMMERCIAL", "1234567893", "PRIMARY")
    assert one["diagnosis_codes"] == ["I10", "E11.9", "R07.89"]
    assert lines(one) == [(1, "99213", ["25"], "", 1, 14500, D, [1, 2, 3]),
                          (2, "85025", [], "", 2, 10000, date(2025, 11, 4), [2])]
    assert (one["total_charge_cents"], one["service_start"], one["service_end"]) == (
        24500, D, date(2025, 11, 4))
    assert (one["frequency_code"], one["original_reference"], one["edits"]) == ("1", None, [])
    assert (two["frequency_code"], two["original_reference"]) == ("7", "PAYER-CCN-9")
    assert lines(two) == [(1, "00630", ["QZ", "P2"], "", 95, 61250, D, [1])]  # 95 minutes (MJ)
    # the dependent's claim takes its own subscriber loop's payer, not the other payer of 2330B
    assert (dep["payer_id"], dep["plan_type"], dep["diagnosis_codes"]) == (
        "MEDICAID", "MEDICAID", ["J06.9"])
    assert all(c["event_id"] == f"x837:HOSPBILL:000000101:0001:{n}" for n, c in enumerate(got, 1))


SECONDARY_CLAIM = [  # the billing system bills Medicaid after the commercial payer adjudicated
    "CLM*HAR500*300***11:B:1*Y*A*Y*Y", "HI*ABK:I10", "NM1*82*1*SMITH*ANN****XX*1234500006",
    "SBR*P*18*GRP01******CI", "CAS*PR*1*40", "AMT*D*180", "AMT*EAF*70", "OI***Y*P**Y",
    "NM1*IL*1*DOE*JANE****MI*W123456789", "NM1*PR*2*ACME*****PI*COMM-ACME", "REF*F8*ICN-77",
    "LX*1", "SV1*HC:99214*200*UN*1***1", "DTP*472*D8*20251103", "REF*6R*7",
    "SVD*COMM-ACME*120*HC:99214**1", "CAS*CO*45*50", "CAS*PR*2*30", "DTP*573*D8*20251120",
    "LX*2", "SV1*HC:36415*100*UN*4***1", "DTP*472*D8*20251103", "REF*6R*8",
    "SVD*COMM-ACME*60*HC:36415**4", "CAS*CO*45*40", "DTP*573*D8*20251121"]


def test_a_secondary_claim_reads_the_primarys_adjudication_its_practitioner_and_line_ids():
    text = X.interchange([*X.header(), *X.subscriber(2, "MEDICAID", filing="MC", sequence="S"),
                          *SECONDARY_CLAIM], P, 301)
    assert validate(text).ok, validate(text).errors
    [claim], refused = parse(text)
    assert refused == []
    assert (claim["payer_sequence"], claim["payer_id"], claim["plan_type"]) == (
        "SECONDARY", "MEDICAID", "MEDICAID")
    assert claim["billing_provider_npi"] == "1234500006"  # 2310B rendering, not 2010AA
    assert lines(claim) == [(7, "99214", [], "", 1, 20000, D, [1]),  # REF*6R 7 and 8, as the
                            (8, "36415", [], "", 4, 10000, D, [1])]  # 835 echoes them
    assert claim["other_payer"] == {
        "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL", "claim_id": "",
        "payer_claim_control_number": "ICN-77", "adjudicated_on": date(2025, 11, 21),
        "paid_cents": 18000, "patient_responsibility_cents": 7000,
        "adjustments": [{"group_code": "CO", "reason_code": "45", "amount_cents": 9000},
                        {"group_code": "PR", "reason_code": "1", "amount_cents": 4000},
                        {"group_code": "PR", "reason_code": "2", "amount_cents": 3000}]}
    codec.encode("ClaimBuilt", claim)
    # the same claim as the primary's: its 2320 names the next payer, nothing adjudicated yet
    [primary], _ = parse(text.replace("SBR*S*18", "SBR*P*18"))
    assert (primary["payer_sequence"], primary["other_payer"]) == ("PRIMARY", None)


def test_837i_reads_revenue_codes_statement_dates_principal_procedure_and_drg():
    [claim], refused = parse(institutional())
    assert refused == []
    assert (claim["claim_type"], claim["plan_type"], claim["payer_id"]) == (
        "INSTITUTIONAL", "MEDICARE", "MEDICARE")
    assert (claim["service_start"], claim["service_end"]) == (date(2025, 11, 1), date(2025, 11, 4))
    assert claim["diagnosis_codes"] == ["J18.9", "E11.9", "I10"]  # ABJ admitting is not billed dx
    assert claim["pcs_codes"] == ["0BJ08ZZ"]
    assert claim["drg"]["drg"] == "194"
    assert lines(claim) == [(1, "", [], "0120", 3, 120000, date(2025, 11, 1), []),
                            (2, "99284", ["25"], "0450", 1, 75000, date(2025, 11, 1), [])]
    assert claim["total_charge_cents"] == 195000


@pytest.mark.parametrize("component,repetition", [(":", "^"), (">", "^"), ("^", "{")])
def test_any_component_separator_and_several_interchanges_per_file(component, repetition):
    text = professional(component, repetition, 101) + institutional(isa13=202)
    got, refused = parse(text)
    assert refused == []
    assert [c["claim_id"] for c in got] == ["4000776", "HAR123", "9999999999", "24000006"]
    assert got[0]["lines"][0]["modifiers"] == ["25"]
    assert got[0]["lines"][0]["diagnosis_pointers"] == [1, 2, 3]


def test_icd9_claim_is_refused_alone_naming_the_hi_element():
    icd9 = [line.replace("HI*ABK:M545", "HI*BK:7245") for line in PROF_CLAIMS]
    got, refused = parse(X.interchange([*X.header(), *X.subscriber(2, "COMM-ACME"), *icd9], P, 5))
    assert [c["claim_id"] for c in got] == ["4000776"]
    [err] = refused
    assert err.segment_id == "HI" and "HI01-1 BK: an ICD-9-CM principal diagnosis" in err.reason


@pytest.mark.parametrize("change,where,reason", [
    (("CLM*4000776*245", "CLM*4000776*246"), "CLM", "CLM02 '246' is not the sum"),
    (("***1:2:3", "***1:2:9"), "SV1", "SV107 pointer 9 names no diagnosis (the claim has 3)"),
    (("UN*2***2", "UN*1.5***2"), "SV1", "whole, positive units only"),
    (("DTP*472*D8*20251104", "DTP*472*D8*20251304"), "DTP", "is not a CCYYMMDD date"),
])
def test_a_true_fault_refuses_its_claim_and_the_next_claim_still_goes_through(change, where, reason):
    body = [line.replace(*change) for line in PROF_CLAIMS]
    got, refused = parse(X.interchange([*X.header(), *X.subscriber(2, "COMM-ACME"), *body], P, 6))
    assert [c["claim_id"] for c in got] == ["HAR123"]
    [err] = refused
    assert err.segment_id == where and reason in err.reason
    assert "4000776" not in err.reason  # reasons do not echo the account


def test_cli_publishes_good_claims_on_claims_submitted_and_dead_letters_the_refused_one():
    icd9 = [line.replace("HI*ABK:M545", "HI*BK:7245") for line in PROF_CLAIMS]
    text = X.interchange([*X.header(), *X.subscriber(2, "COMM-ACME"), *icd9], P, 7)
    result = convert(text, "hospital.837", NOW)
    [good] = [r for r in result.records if r.topic is T.CLAIMS_SUBMITTED]
    [bad] = [r for r in result.records if r.topic is T.DEAD_LETTERS]
    assert len(result.records) == 2
    claim = codec.decode_for(T.CLAIMS_SUBMITTED, good.value)
    assert (claim["claim_id"], claim["status"], good.key) == ("4000776", "SUBMITTED", b"4000776")
    dead = codec.decode_for(T.DEAD_LETTERS, bad.value)
    assert dead["stage"] == "x12_adapter" and "ICD-9" in dead["reason"]
    assert result.counts["bad claims"] == 1


@pytest.mark.parametrize("text", [professional(), institutional(), professional(">", "^")])
def test_pyx12_accepts_the_fixtures(text):
    verdict = validate(text)
    assert verdict.ok, verdict.errors


def test_packaged_837p_samples_are_icd9_refused_and_map_once_coded_in_icd10():
    """The 837P samples in the badx12 wheel (the guide's examples) carry ICD-9 (BK/BF): each is
    refused with that reason. With the qualifiers made ICD-10 (ABK/ABF) every claim maps, its
    total the sum of its lines and every pointer naming a diagnosis."""
    files = x12_samples("X222")
    assert files
    for path in files:
        text = path.read_text()
        for tx in read(text, path.name).transactions:
            good, bad = claims(tx, NOW)
            assert good == [] and bad and all("ICD-9-CM" in e.reason for e in bad), path.name
        for tx in read(re.sub(r"\*B([KF])(?=[:>^])", r"*AB\1", text), path.name).transactions:
            good, bad = claims(tx, NOW)
            assert good and bad == [], (path.name, [e.reason for e in bad])
            for claim in good:
                codec.encode("ClaimBuilt", claim)
                assert claim["total_charge_cents"] == sum(ln["charge_cents"] for ln in claim["lines"])
                assert all(1 <= p <= len(claim["diagnosis_codes"])
                           for ln in claim["lines"] for p in ln["diagnosis_pointers"])
