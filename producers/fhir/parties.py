"""Who: the visit and account numbers, the patient's age and sex, the payer and plan, the
provider's NPI and the facility, read from an Encounter and the resources it references."""
from __future__ import annotations

from processors.payers import PAYERS
from producers.fhir.common import (
    NPI,
    PAYMENT_TYPOLOGY,
    MappingError,
    age_on,
    day,
    first_code,
    has_type,
)
from schemas.accounts import account_id_fault, check_digit

SEX = {"female": "F", "male": "M", "other": "U", "unknown": "U"}
# Source of Payment Typology (PHDSC): the first digit is the payer family.
TYPOLOGY_PLAN = {"1": "MEDICARE", "2": "MEDICAID", "5": "COMMERCIAL", "6": "COMMERCIAL",
                 "8": "SELF_PAY"}
SELF_PAYORS = ("Patient", "RelatedPerson")
ATTENDING_FIRST = ("ATND", "PPRF", "SPRF", "PART")


def visit_number(encounter) -> str:
    ids = [i for i in encounter.identifier or [] if i.value]
    chosen = next((i for i in ids if has_type(i, "VN")), None) or \
        next((i for i in ids if not (has_type(i, "AN") or has_type(i, "MR"))), None)
    if chosen is None:
        raise MappingError("Encounter has no visit number (an identifier of type VN, or one not "
                           "typed AN/MR)")
    return chosen.value.strip()


def account_id(encounter, index, also=()) -> str:
    """Encounter.account -> Account.identifier (or the reference's own identifier), else an
    identifier of type AN on the Encounter or on `also` (the Claim)."""
    found = None
    for ref in (encounter.account or []) if encounter is not None else []:
        if ref.identifier is not None and ref.identifier.value:
            found = ref.identifier.value
        else:
            account = index.resolve(ref, "Account")
            ids = [i for i in (account.identifier or []) if i.value] if account else []
            chosen = next((i for i in ids if has_type(i, "AN")), ids[0] if ids else None)
            found = chosen.value if chosen else None
        if found:
            break
    for holder in (h for h in (encounter, *also) if h is not None):
        if found:
            break
        found = next((i.value for i in holder.identifier or [] if i.value and has_type(i, "AN")), None)
    if not found:
        raise MappingError("no account number (Encounter.account -> Account.identifier, or an "
                           "identifier of type AN)")
    if fault := account_id_fault(found.strip()):
        raise MappingError(fault)
    return found.strip()


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
    target = index.resolve(ref, want)
    ids = [i.value for i in (getattr(target, "identifier", None) or []) if i.value] if target else []
    return ids[0].strip() if ids else None


def payer(coverage, index) -> dict:
    """payer_id from Coverage.payor (SELFPAY when the payor is the patient), plan type from the
    Source of Payment Typology code in Coverage.type, else from the payer table."""
    if coverage is None:
        return {}
    payor = (coverage.payor or [None])[0]
    if payor is None:
        raise MappingError("Coverage has no payor")
    target = index.resolve(payor) if payor.reference else None
    kind = target.get_resource_type() if target is not None else \
        ((payor.reference or "").split("/")[-2:-1] or [payor.type])[0]
    if kind in SELF_PAYORS:
        return {"payer_id": "SELFPAY", "plan_type": "SELF_PAY"}
    payer_id = _identifier_of(payor, index, ("Organization",))
    if not payer_id:
        raise MappingError("Coverage.payor names no payer identifier")
    code = first_code(coverage.type, PAYMENT_TYPOLOGY)
    plan = TYPOLOGY_PLAN.get(code[:1]) if code else None
    if plan is None and payer_id in PAYERS:
        plan = PAYERS[payer_id].plan_type
    if plan is None:
        raise MappingError("plan type unknown: Coverage.type has no Source of Payment Typology "
                           "code and the payer is not in the payer table")
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


def is_npi(value: str) -> bool:
    return len(value) == 10 and value.isdigit() and check_digit("80840" + value[:9]) == value[9]


def provider_npi(encounter, index) -> str | None:
    def rank(p):
        types = [c.code for t in p.type or [] for c in t.coding or []]
        return min((ATTENDING_FIRST.index(t) for t in types if t in ATTENDING_FIRST), default=9)

    for part in sorted(encounter.participant or [], key=rank):
        ref = part.individual
        if ref is None:
            continue
        if ref.identifier is not None and ref.identifier.system == NPI:
            npi = ref.identifier.value
        else:
            person = index.resolve(ref)
            npi = next((i.value for i in getattr(person, "identifier", None) or []
                        if i.system == NPI), None)
        if npi:
            if not is_npi(npi.strip()):
                raise MappingError("participant NPI fails its check digit")
            return npi.strip()
    return None


def facility_id(encounter, index) -> str | None:
    return _identifier_of(encounter.serviceProvider, index, ("Organization",))


__all__ = ["account_id", "coverage_of", "facility_id", "is_npi", "patient", "payer",
           "provider_npi", "visit_number"]
