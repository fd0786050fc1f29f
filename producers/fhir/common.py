"""What the FHIR mappings share: the error they raise, code systems, money, dates, event ids."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = ("http://www.cms.gov/Medicare/Coding/ICD10", "http://hl7.org/fhir/sid/icd-10-pcs")
NPI = "http://hl7.org/fhir/sid/us-npi"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = ("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
         "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets")
REVENUE = ("https://www.nubc.org/CodeSystem/RevenueCodes", "http://www.nubc.org/CodeSystem/RevenueCodes")
DISCHARGE_UB04 = ("https://www.nubc.org/CodeSystem/PatDischargeStatus",
                  "http://www.nubc.org/CodeSystem/PatDischargeStatus")
DISCHARGE_HL7 = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PLACE_OF_SERVICE = ("https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
                    "http://terminology.hl7.org/CodeSystem/CMSPlaceofServiceCodes")
PAYMENT_TYPOLOGY = ("https://nahdo.org/sopt", "urn:oid:2.16.840.1.113883.3.221.5")
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"
CAS_GROUP = "https://x12.org/codes/claim-adjustment-group-codes"
ADJUDICATION = ("http://terminology.hl7.org/CodeSystem/adjudication",
                "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication",
                "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator")
# CMS Blue Button 2.0 adjudication variables (Synthea's ExplanationOfBenefit.item.adjudication)
BLUE_BUTTON_ADJUDICATION = "https://bluebutton.cms.gov/resources/codesystem/adjudication"
PATIENT_CLASS_V2 = "http://terminology.hl7.org/CodeSystem/v2-0004"
EVENT_TYPE_V2 = "http://terminology.hl7.org/CodeSystem/v2-0003"
SNOMED = "http://snomed.info/sct"
# The hospital's own charge-master code system (Claim.item.productOrService); RCM_FHIR_CHARGE_SYSTEM
# or --charge-system names another.
CHARGE_SYSTEM = "urn:rcm-pipeline:charge-master"
PAYER_SYSTEM = "urn:rcm-pipeline:payer"  # what samples.py writes; any identifier system is read


class MappingError(ValueError):
    """A resource that validates but cannot become an event; the message is the precise reason
    (it names fields, never patient data or account numbers)."""


def codings(concept, systems) -> list:
    """The codings of a CodeableConcept whose system is one of `systems`."""
    wanted = (systems,) if isinstance(systems, str) else tuple(systems)
    return [c for c in (getattr(concept, "coding", None) or []) if c.system in wanted and c.code]


def first_code(concept, systems) -> str | None:
    found = codings(concept, systems)
    return found[0].code.strip() if found else None


def has_type(identifier, code: str) -> bool:
    return any(c.system == IDENTIFIER_TYPE and c.code == code
               for c in (getattr(identifier.type, "coding", None) or []))


NOISE = Decimal("0.000001")  # binary floating-point residue in cents: 1231.7000000000001


def cents(value, what: str, round_to_cent: bool = False) -> int:
    """A Money/decimal value as integer cents. Floating-point residue (a writer that printed a
    double) is dropped; a real fraction of a cent is an error, or, with round_to_cent (a payer's
    percentage arithmetic, e.g. 20% coinsurance of 287.99), rounded half up."""
    if value is None:
        raise MappingError(f"{what} has no value")
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    scaled = amount * 100
    whole_cents = scaled.to_integral_value(rounding=ROUND_HALF_UP)
    if abs(scaled - whole_cents) > NOISE and not round_to_cent:
        raise MappingError(f"{what} has a fraction of a cent")
    return int(whole_cents)


def whole(value, what: str) -> int:
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if amount != amount.to_integral_value() or amount <= 0:
        raise MappingError(f"{what} must be a whole number above 0")
    return int(amount)


def day(value) -> date | None:
    """The calendar date a FHIR date/dateTime names, as written (the hospital's local date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) < 10:
        raise MappingError(f"date {text!r} is partial (needs year, month and day)")
    return date.fromisoformat(text[:10])


def millis(value) -> int | None:
    """A FHIR instant/dateTime/date as epoch milliseconds, UTC (a date counts from midnight UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        d = day(value)
        at = datetime(d.year, d.month, d.day, tzinfo=UTC)
    return int(at.timestamp() * 1000)


def age_on(birth: date, when: date) -> int:
    return when.year - birth.year - ((when.month, when.day) < (birth.month, birth.day))


def content_hash(raw: dict | bytes) -> str:
    data = raw if isinstance(raw, bytes) else json.dumps(raw, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def event_id(resource, raw: dict) -> str:
    """fhir:Type/id/_history/version; without a version, a hash of the content, so a re-send of
    the same resource gets the same id and a changed one a new id."""
    rid = resource.id or "-"
    version = getattr(resource.meta, "versionId", None) if resource.meta else None
    tail = f"/_history/{version}" if version else f"#{content_hash(raw)}"
    return f"fhir:{resource.get_resource_type()}/{rid}{tail}"


class Skipped(Exception):
    """A valid resource that carries no event (a cancelled claim, a queued claim response); the
    adapter reports it with this reason instead of dropping it silently."""
