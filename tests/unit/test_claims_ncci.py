from datetime import UTC, date, datetime

import pytest

from processors.chargemaster import load_charge_master
from processors.claims import ncci
from processors.claims.rules import (
    ICD10CM_FY2026,
    CodeSetRelease,
    build_claim,
    code_set_edits,
    releases_valid_through,
)
from producers.synthetic import generate
from schemas import codec
from schemas import topics as T

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
D = date(2026, 3, 2)

PTP_TXT = (
    "CPT only copyright 2025 American Medical Association. All rights reserved.\r\n"
    "\r\n\r\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
    "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale\r\n"
    "45378\t99213\t\t20100101\t*\t1\tStandards of medical / surgical practice\r\n"
    "99215\t99213\t*\t19960101\t*\t0\tMutually exclusive procedures\r\n"
    "99283\t99213\t\t20120101\t20240101\t0\tMutually exclusive procedures\r\n"
    "99214\t99212\t\t20260101\t20260101\t9\tMutually exclusive procedures\r\n"
)

MUE_CSV = (
    '"CPT codes and descriptions only are copyright 2025 American Medical Association."\n'
    "\n"
    "Medically Unlikely Edits, practitioner services, effective 2026-01-01\n"
    '"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n'
    "36415,2,3 Date of Service Edit: Clinical,Clinical: Data\n"
    "73030,2,1 Line Edit,Anatomic Consideration\n"
    "j2405,32,3 Date of Service Edit: Clinical,Clinical: Data\n"
)


class AnyCode:
    """A coder that accepts every diagnosis: these tests are about lines and dates."""

    def is_valid(self, code):
        return True

    def is_billable(self, code):
        return True

    def conflicts(self, code, age, sex):
        return []


def proc(line, code, units=1, modifiers=(), day=D, cents=10000):
    return {"line": line, "charge_code": f"CM{line}", "procedure_code": code,
            "modifiers": list(modifiers), "revenue_code": "0510", "units": units,
            "charge_cents": cents, "service_date": day}


def coded(procedures, cls="OUTPATIENT", start=D, end=D):
    return {
        "event_id": "ev-9:coded", "source_event_id": "ev-9", "source_emitted_at": T0,
        "encounter_id": "E9", "account_id": "A0000000424", "occurred_at": T0,
        "patient_age": 61, "patient_sex": "M", "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL",
        "provider_npi": "1234567893", "facility_id": "FAC1", "encounter_class": cls,
        "service_start": start, "service_end": end,
        "diagnoses": [{"sequence": 1, "code": "I10", "confidence": 1.0, "evidence": "I10"}],
        "procedures": procedures,
    }


def edits_of(*procedures, **kw):
    claim = build_claim(coded(list(procedures)), AnyCode(), **kw)
    return [(e["edit"], e["line"]) for e in claim["edits"]]


@pytest.fixture(scope="module")
def ptp(tmp_path_factory):
    path = tmp_path_factory.mktemp("ncci") / "ccipra-v321r0-f1.txt"
    path.write_bytes(PTP_TXT.encode("latin-1"))
    return ncci.load_ptp(path)


def test_ptp_pair_on_the_same_date_holds_the_column_two_line():
    claim = build_claim(coded([proc(1, "45378"), proc(2, "36415"), proc(3, "99213")]), AnyCode())
    assert claim["status"] == "HELD"
    [edit] = claim["edits"]
    assert (edit["edit"], edit["line"]) == ("NCCI_PTP", 3)
    assert "line 3 (99213)" in edit["message"] and "line 1 (45378)" in edit["message"]


def test_ptp_pair_on_different_dates_is_clean():
    assert edits_of(proc(1, "45378"), proc(2, "99213", day=date(2026, 3, 3))) == []


def test_bypass_modifier_releases_an_indicator_1_pair_but_not_an_indicator_0_pair():
    assert edits_of(proc(1, "45378"), proc(2, "99213", modifiers=("25",))) == []
    assert edits_of(proc(1, "45378", modifiers=("XU",)), proc(2, "99213")) == []
    assert edits_of(proc(1, "99215"), proc(2, "99213", modifiers=("25",))) == [("NCCI_PTP", 2)]
    assert edits_of(proc(1, "99215", modifiers=("59",)), proc(2, "99213")) == [("NCCI_PTP", 2)]


def test_e_and_m_modifier_on_a_procedure_does_not_bypass_a_pair():
    assert edits_of(proc(1, "45378", modifiers=("25",)), proc(2, "99213")) == [("NCCI_PTP", 2)]
    assert edits_of(proc(1, "45378"), proc(2, "99213", modifiers=("RT",))) == []


def test_deleted_edit_no_longer_applies_after_its_deletion_date(ptp):
    before, on = date(2023, 12, 31), date(2024, 1, 1)
    assert ptp.conflicts("99283", "99213", before) is not None
    assert ptp.conflicts("99283", "99213", on) is None
    assert ptp.conflicts("99214", "99212", on) is None  # indicator 9: never in force
    assert ptp.conflicts("45378", "99213", date(2009, 12, 31)) is None  # not yet effective
    assert ptp.conflicts("99213", "45378", D) is None  # pairs are ordered: column 1, column 2


def test_mue_exceeded_holds_and_at_the_limit_is_clean():
    at_limit = [proc(1, "99284"), proc(2, "36415", units=2)]
    assert edits_of(*at_limit) == []
    assert edits_of(*at_limit, proc(3, "36415", modifiers=("91",))) == [("MUE_UNITS", 3)]
    assert edits_of(proc(1, "J2405", units=33)) == [("MUE_UNITS", 1)]
    assert edits_of(proc(1, "36415", units=2), proc(2, "36415", day=date(2026, 3, 3))) == []


def test_line_mue_counts_units_per_line_not_per_date():
    right_and_left = [proc(1, "73030", modifiers=("RT",)), proc(2, "73030", units=2, modifiers=("LT",))]
    assert edits_of(*right_and_left) == []
    assert edits_of(proc(1, "73030", units=3)) == [("MUE_UNITS", 1)]


def test_a_duplicate_line_is_not_counted_again_by_the_unit_limit():
    assert edits_of(proc(1, "99284"), proc(2, "99284")) == [("DUPLICATE_LINE", 2)]


def test_loaders_read_a_cms_layout_tab_file(ptp):
    assert len(ptp) == 4
    edit = ptp.conflicts("99215", "99213", D, ["25"])
    assert edit.modifier_indicator == "0" and edit.pre_1996 and edit.deleted is None
    assert edit.rationale == "Mutually exclusive procedures"


def test_loaders_read_a_csv_with_header_noise(tmp_path):
    path = tmp_path / "mue-practitioner.csv"
    path.write_text(MUE_CSV, encoding="utf-8")
    mue = ncci.load_mue(path)
    assert mue.limit("36415", D) == 2 and mue.entry("36415", D).per_date
    assert mue.limit("73030", D) == 2 and not mue.entry("73030", D).per_date
    assert mue.limit("J2405", D) == 32 and mue.limit("99213", D) is None
    ptp_csv = tmp_path / "ptp.csv"
    ptp_csv.write_text(PTP_TXT.replace("\t", ","), encoding="utf-8")
    assert len(ncci.load_ptp(ptp_csv)) == 4


def test_a_malformed_row_or_an_empty_file_is_an_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("45378\t99213\t\t2010-01-01\t*\t1\tdate in the wrong shape\n")
    with pytest.raises(ValueError, match="bad.txt:1"):
        ncci.load_ptp(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("HCPCS/CPT Code,MUE Values\n")
    with pytest.raises(ValueError, match="no MUE rows"):
        ncci.load_mue(empty)


def test_a_later_mue_table_replaces_the_earlier_one_from_its_effective_date(tmp_path):
    old, new = tmp_path / "q1.csv", tmp_path / "q2.csv"
    old.write_text("36415,2,3\n80053,1,2\n")
    new.write_text("36415,3,3\n")
    mue = ncci.load_mue(old).combined(ncci.load_mue(new, effective=date(2026, 4, 1)))
    assert mue.limit("36415", date(2026, 3, 31)) == 2 and mue.limit("80053", date(2026, 3, 31)) == 1
    assert mue.limit("36415", date(2026, 4, 1)) == 3 and mue.limit("80053", date(2026, 4, 1)) is None


def test_service_date_before_the_loaded_release_holds_the_claim():
    claim = build_claim(coded([proc(1, "99284", day=date(2024, 5, 2))]), AnyCode())
    assert claim["status"] == "HELD"
    assert claim["edits"] == [{"edit": "CODE_SET_DATE", "line": None, "message":
                               "service date 2024-05-02 is outside the loaded ICD-10-CM release "
                               "FY2026 (2025-10-01..2026-09-30)"}]


def test_service_date_after_the_newest_release_warns_without_holding():
    late = date(2026, 11, 2)
    assert build_claim(coded([proc(1, "99284", day=late)]), AnyCode())["status"] == "CLEAN"
    held, stale = code_set_edits({late, D}, (ICD10CM_FY2026,))
    assert held == [] and [w["edit"] for w in stale] == ["CODE_SET_STALE"]
    assert "2026-11-02 is after the loaded ICD-10-CM release FY2026" in stale[0]["message"]


def test_valid_through_setting_extends_the_newest_release():
    [extended] = releases_valid_through(date(2027, 9, 30))
    assert extended == CodeSetRelease("FY2026", date(2025, 10, 1), date(2027, 9, 30))
    assert code_set_edits({date(2026, 11, 2)}, (extended,)) == ([], [])
    assert releases_valid_through(None) == (ICD10CM_FY2026,)


def test_a_gap_between_loaded_releases_holds_the_claim():
    fy24 = CodeSetRelease("FY2024", date(2023, 10, 1), date(2024, 9, 30))
    held, _ = code_set_edits({date(2025, 1, 15), date(2024, 5, 2)}, (fy24, ICD10CM_FY2026))
    assert [e["message"] for e in held] == [(
        "service date 2025-01-15 is outside the loaded ICD-10-CM releases "
        "FY2024 (2023-10-01..2024-09-30), FY2026 (2025-10-01..2026-09-30)")]


def test_an_inpatient_stay_takes_the_code_set_in_force_at_discharge():
    stay = coded([proc(1, "", day=date(2025, 9, 28))], cls="INPATIENT",
                 start=date(2025, 9, 28), end=date(2025, 10, 3))
    assert build_claim(stay, AnyCode())["status"] == "CLEAN"


def test_sample_tables_never_hold_the_synthetic_hospitals_claims():
    cm = load_charge_master()
    edits = set()
    for out in generate(3000, 7).records:
        if out.topic is not T.ENCOUNTERS or out.bad:
            continue
        enc = codec.decode_for(T.ENCOUNTERS, out.value)
        procs = [proc(c["line"], cm[c["charge_code"]].procedure_code, c["units"],
                      cm[c["charge_code"]].modifiers, c["service_date"]) for c in enc["charges"]]
        claim = build_claim(coded(procs, enc["encounter_class"], enc["service_start"],
                                  enc["service_end"]), AnyCode())
        edits |= {e["edit"] for e in claim["edits"]}
    assert edits <= {"DUPLICATE_LINE"}
