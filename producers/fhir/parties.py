"""Who: the visit and account numbers, the patient's age and sex, the payer and plan, the
provider's NPI and the facility, read from an Encounter and the resources it references."""
from __future__ import annotations

from processors.payers import PAYERS
from processors.payers import payer as payer_of
from producers.fhir.common import (
    NPI,
    PAYMENT_TYPOLOGY,
    MappingError,
    age_on,
    day,
    first_code,
    has_type,
)
from producers.fhir.model import conditional_identifier
from schemas.accounts import account_id_fault

SEX = {"female": "F", "male": "M", "other": "U", "unknown": "U"}
# Source of Payment Typology (PHDSC): the first digit is the payer family.
TYPOLOGY_PLAN = {"1": "MEDICARE", "2": "MEDICAID", "5": "COMMERCIAL", "6": "COMMERCIAL",
                 "8": "SELF_PAY"}
SELF_PAYORS = ("Patient", "RelatedPerson")
# A payer named only by display (Synthea: "Medicare", "Medicaid", "NO_INSURANCE", "Aetna")
NAMED_PLAN = (("medicare", "MEDICARE"), ("medicaid", "MEDICAID"), ("no_insurance", "SELF_PAY"),
              ("no insurance", "SELF_PAY"), ("self pay", "SELF_PAY"), ("self-pay", "SELF_PAY"))
ATTENDING_FIRST = ("ATND", "PPRF", "SPRF", "PART")


def visit_number(encounter) -> str:
    """An identifier of type VN, else the first not typed AN/MR, else the Encounter's id."""
    ids = [i for i in encounter.identifier or [] if i.value and i.value.strip()]
    chosen = next((i for i in ids if has_type(i, "VN")), None) or \
        next((i for i in ids if not (has_type(i, "AN") or has_type(i, "MR"))), None)
    if chosen is None and not encounter.id:
        raise MappingError("Encounter has no visit number (an identifier of type VN, one not "
                           "typed AN/MR, or an id)")
    return chosen.value.strip() if chosen is not None else encounter.id


def account_id(encounter, index, also=(), visit: str | None = None) -> str:
    """Encounter.account -> Account.identifier (or the reference's own identifier), else an
    identifier of type AN on the Encounter or on `also` (the Claim), else the visit number (as
    the HL7 path takes PV1-19 when PID-18 is empty)."""
    found = account_from(encounter.account if encounter is not None else None, index)
    for holder in (h for h in (encounter, *also) if h is not None):
        if found:
            break
        found = next((i.value for i in holder.identifier or [] if i.value and has_type(i, "AN")), None)
    if not found and visit is None and encounter is not None:
        visit = visit_number(encounter)
    found = found or visit
    if not found:
        raise MappingError("no account number (Encounter.account -> Account.identifier, an "
                           "identifier of type AN, or a visit number)")
    if fault := account_id_fault(found.strip()):
        raise MappingError(fault)
    return found.strip()


def account_from(refs, index) -> str | None:
    """The account number of the first Account reference that names one: its own identifier,
    else the Account's (type AN preferred); checked like every account number."""
    for ref in refs or []:
        if ref.identifier is not None and ref.identifier.value:
            found = ref.identifier.value
        else:
            account = index.resolve(ref, "Account")
            ids = [i for i in (account.identifier or []) if i.value] if account else []
            chosen = next((i for i in ids if has_type(i, "AN")), ids[0] if ids else None)
            found = chosen.value if chosen else None
        if found:
            if fault := account_id_fault(found.strip()):
                raise MappingError(fault)
            return found.strip()
    return None


def patient(encounter, index, on) -> dict:
    """Age in whole years on `on` and sex; the birth date goes no further."""
    person = index.resolve(encounter.subject, "Patient") if encounter.subject else None
    if person is None:
        return {}
    out = {"patient_sex": SEX.get(person.gender or "unknown", "U")}
    if person.birthDate is not None and on is not None:
        age = age_on(day(person.birthDate), on)
        if age < 0:
            raise MappingError("Patient.birthDate is after the visit start")
        out["patient_age"] = age
    return out


def _identifier_of(ref, index, want) -> str | None:
    if ref is None:
        return None
    if ref.identifier is not None and ref.identifier.value:
        return ref.identifier.value.strip()
    conditional = conditional_identifier(ref.reference)
    target = index.resolve(ref, want)
    if target is None and conditional is not None and conditional[2].strip():
        return conditional[2].strip()
    ids = [i.value for i in (getattr(target, "identifier", None) or []) if i.value] if target else []
    return ids[0].strip() if ids else None


def named_payer(name: str | None, type_text: str | None = None) -> dict:
    """A payer known only by its display name: the name is the payer id; the plan type from the
    name or the coverage type's text (Medicare, Medicaid, no insurance), else as the HL7 path
    defaults (the payer table, then COMMERCIAL)."""
    name = (name or "").strip()
    if not name:
        return {}
    words = f"{name} {type_text or ''}".lower()
    plan = next((p for word, p in NAMED_PLAN if word in words), None)
    if plan == "SELF_PAY":
        return {"payer_id": "SELFPAY", "plan_type": "SELF_PAY"}
    return {"payer_id": name, "plan_type": plan or payer_of(name).plan_type}


def payer(coverage, index) -> dict:
    """payer_id from Coverage.payor (SELFPAY when the payor is the patient or a related person),
    plan type from the Source of Payment Typology code in Coverage.type, else the payer table,
    else COMMERCIAL (the HL7 path's default); a payor named only by display or by the
    Organization's name is named_payer; a payor that names nothing leaves the payer unknown."""
    if coverage is None:
        return {}
    payor = (coverage.payor or [None])[0]
    if payor is None:
        raise MappingError("Coverage has no payor")
    target = index.resolve(payor) if payor.reference else None
    kind = target.get_resource_type() if target is not None else \
        ((payor.reference or "").split("?")[0].split("/")[-2:-1] or [payor.type])[0]
    if kind in SELF_PAYORS:
        return {"payer_id": "SELFPAY", "plan_type": "SELF_PAY"}
    payer_id = _identifier_of(payor, index, ("Organization",))
    name = (payor.display or getattr(target, "name", None)) if not payer_id else None
    if name and name.strip():
        return named_payer(name, getattr(coverage.type, "text", None))
    if not payer_id:
        # An Organization with only a contact (a converted IN1 with no IN1-2/3/4): the payer is
        # unknown, as on the HL7 path; the visit waits for an update that names it.
        return {}
    code = first_code(coverage.type, PAYMENT_TYPOLOGY)
    plan = TYPOLOGY_PLAN.get(code[:1]) if code else None
    if plan is None:
        plan = PAYERS[payer_id].plan_type if payer_id in PAYERS else payer_of(payer_id).plan_type
    return {"payer_id": payer_id, "plan_type": plan}


def coverage_of(encounter, index, keys_of_subject: set[str]):
    """Account.coverage by priority, else the patient's Coverage with the lowest order."""
    for ref in encounter.account or []:
        account = index.resolve(ref, "Account") if ref.reference else None
        for cov in sorted(getattr(account, "coverage", None) or [], key=lambda c: c.priority or 99):
            found = index.resolve(cov.coverage, "Coverage")
            if found is not None:
                return found
    mine = index.referring("Coverage", "beneficiary", keys_of_subject) if keys_of_subject else []
    mine = [c for c in mine if c.status in (None, "active")]
    return min(mine, key=lambda c: c.order or 99) if mine else None


def provider_npi(encounter, index) -> str | None:
    def rank(p):
        types = [c.code for t in p.type or [] for c in t.coding or []]
        return min((ATTENDING_FIRST.index(t) for t in types if t in ATTENDING_FIRST), default=9)

    for part in sorted(encounter.participant or [], key=rank):
        ref = part.individual
        if ref is None:
            continue
        conditional = conditional_identifier(ref.reference)
        if ref.identifier is not None and ref.identifier.system == NPI:
            npi = ref.identifier.value
        elif conditional is not None and conditional[1] == NPI:
            npi = conditional[2]
        else:
            person = index.resolve(ref)
            npi = next((i.value for i in getattr(person, "identifier", None) or []
                        if i.system == NPI), None)
        if npi and npi.strip():
            return npi.strip()  # kept as sent: a valid NPI is the 837's need, checked there
    return None


def facility_id(encounter, index) -> str | None:
    return _identifier_of(encounter.serviceProvider, index, ("Organization",))


__all__ = ["account_id", "coverage_of", "facility_id", "named_payer", "patient", "payer",
           "provider_npi", "visit_number"]
