"""The one registry of topics and schemas. Nothing else spells a topic name or a schema id.

A schema id is what the Confluent wire format carries in bytes 1-4. Ids are fixed here, one per
`.avsc` file; a new version of a contract gets a new id and the old one stays readable.
"""
from __future__ import annotations

from dataclasses import dataclass

SCHEMA_IDS: dict[str, int] = {
    "EncounterReceived": 1,
    "RemittanceReceived": 2,
    "PaymentReceived": 3,
    "EncounterCoded": 4,
    "CodingReviewRequested": 5,
    "ClaimBuilt": 6,
    "DenialFlagged": 7,
    "LedgerEntriesPosted": 8,
    "AccountBalanceUpdated": 9,
    "DeadLetter": 10,
    "CodingDecision": 11,
    "PendingCoding": 12,
    "VisitEvent": 13,
    "ClaimStatusReported": 14,
    "PendingVisit": 15,
    "ClaimAccount": 16,
    "AppealEvent": 17,
    "DenialDeadline": 18,
    "OpenDenial": 19,
    "DenialStatusChanged": 26,
}


@dataclass(frozen=True)
class Topic:
    name: str
    value_schema: str
    key: str  # the value field the record key is taken from
    partitions: int
    compacted: bool = False
    retention_ms: int = 7 * 24 * 3600 * 1000
    doc: str = ""

    def config(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact"}
        return {"retention.ms": str(self.retention_ms)}


PARTITIONS = 4  # every account-keyed topic shares it, so one account's events share a partition

ENCOUNTERS = Topic("encounters", "EncounterReceived", "account_id", PARTITIONS,
                   doc="Encounters from hospital systems (input).")
REMITTANCES = Topic("remittances", "RemittanceReceived", "account_id", PARTITIONS,
                    doc="Payer claim payments, 835-like (input).")
PAYMENTS = Topic("payments", "PaymentReceived", "account_id", PARTITIONS,
                 doc="Patient payments and refunds (input).")
VISIT_EVENTS = Topic("visit-events", "VisitEvent", "account_id", PARTITIONS,
                     doc="Visit changes from HL7 v2 ADT/DFT and FHIR adapters (input).")
VISITS_PENDING = Topic("visits-pending", "PendingVisit", "visit_number", PARTITIONS, compacted=True,
                       doc="Processor state: visits being assembled (compacted; keyed by visit, "
                           "partitioned by account; internal).")
REMITTANCES_UNMATCHED = Topic("remittances-unmatched", "RemittanceReceived", "claim_id", PARTITIONS,
                              doc="Remittances from X12 835 / FHIR whose account is not known yet, "
                                  "keyed by claim id (input).")
CLAIM_ACCOUNTS = Topic("claim-accounts", "ClaimAccount", "claim_id", PARTITIONS, compacted=True,
                       doc="Processor state: claim id -> account, and remittances waiting for their "
                           "claim (compacted; internal).")
CLAIM_STATUS = Topic("claim-status", "ClaimStatusReported", "claim_id", PARTITIONS,
                     doc="Claim acknowledgements from X12 277CA, keyed by claim id (input).")
ENCOUNTERS_CODED = Topic("encounters-coded", "EncounterCoded", "account_id", PARTITIONS,
                         doc="Encounters coded automatically.")
CODING_REVIEW = Topic("coding-review", "CodingReviewRequested", "account_id", PARTITIONS,
                      doc="Encounters a coder must review, with reasons.")
CODING_DECISIONS = Topic("coding-decisions", "CodingDecision", "account_id", PARTITIONS,
                         doc="Coders' decisions on reviewed encounters (input).")
CODING_PENDING = Topic("coding-pending", "PendingCoding", "encounter_id", PARTITIONS, compacted=True,
                       doc="Processor state: encounters in review and early decisions (compacted; "
                           "keyed by encounter, partitioned by account; internal).")
CLAIMS = Topic("claims", "ClaimBuilt", "account_id", PARTITIONS,
               doc="Claims built and scrubbed: CLEAN or HELD.")
DENIALS = Topic("denials", "DenialFlagged", "account_id", PARTITIONS,
                doc="Denied amounts with category and appeal deadline.")
APPEALS = Topic("appeals", "AppealEvent", "account_id", PARTITIONS,
                doc="Denial appeal lifecycle from the billing system: filed, overturned, upheld, "
                    "written off; and clock ticks (input).")
DENIALS_OPEN = Topic("denials-open", "OpenDenial", "denial_id", PARTITIONS, compacted=True,
                     doc="Processor state: each denial's appeal lifecycle, deadline alert flags and "
                         "appeal events waiting for their denial (compacted; keyed by denial, "
                         "partitioned by account; internal).")
DENIAL_LIFECYCLE = Topic("denial-lifecycle", "DenialStatusChanged", "account_id", PARTITIONS,
                         doc="Accepted appeal steps and expiries, with the denial's new status.")
DEADLINE_APPROACHING = Topic("denial-deadline-approaching", "DenialDeadline", "account_id",
                             PARTITIONS, doc="Denials whose appeal deadline is near, no appeal filed.")
DENIAL_EXPIRED = Topic("denial-expired", "DenialDeadline", "account_id", PARTITIONS,
                       doc="Denials whose appeal deadline passed with no appeal filed.")
LEDGER_ENTRIES = Topic("ledger-entries", "LedgerEntriesPosted", "account_id", PARTITIONS,
                       doc="Signed ledger entries, one record per source event.")
ACCOUNT_BALANCES = Topic("account-balances", "AccountBalanceUpdated", "account_id", PARTITIONS,
                         compacted=True, doc="Committed balance per account (compacted).")
DEAD_LETTERS = Topic("dead-letters", "DeadLetter", "source_topic", 1,
                     retention_ms=30 * 24 * 3600 * 1000,
                     doc="Records a stage could not process, with the reason.")

ALL: tuple[Topic, ...] = (
    ENCOUNTERS, REMITTANCES, PAYMENTS, CODING_DECISIONS, VISIT_EVENTS, REMITTANCES_UNMATCHED,
    CLAIM_STATUS, ENCOUNTERS_CODED, CODING_REVIEW, CODING_PENDING, VISITS_PENDING, CLAIM_ACCOUNTS,
    CLAIMS, DENIALS, LEDGER_ENTRIES, ACCOUNT_BALANCES, DEAD_LETTERS,
    APPEALS, DENIALS_OPEN, DENIAL_LIFECYCLE, DEADLINE_APPROACHING, DENIAL_EXPIRED,
)
INPUTS: tuple[Topic, ...] = (ENCOUNTERS, REMITTANCES, PAYMENTS, APPEALS)  # what hospital systems emit
BY_NAME: dict[str, Topic] = {t.name: t for t in ALL}
