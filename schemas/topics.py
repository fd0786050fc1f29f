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
    "ScrubRuleProposed": 20,
    "ScrubRuleDecision": 21,
    "ScrubRule": 22,
    "DenialPattern": 28,
    "ClaimState": 32,
    "EncounterCharges": 33,
    "KpiValue": 23,
    "ArAgingSnapshot": 24,
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
    retention_ms: int = 7 * 24 * 3600 * 1000  # a compacted topic's only when `expiring`
    doc: str = ""
    expiring: bool = False  # compacted, and an entry not written again for retention_ms goes too

    def config(self) -> dict[str, str]:
        if self.compacted and self.expiring:
            # Kafka deletes a segment once its newest record is older than retention.ms, and
            # compacts the rest: an entry lives at least that long after its last write
            return {"cleanup.policy": "compact,delete", "retention.ms": str(self.retention_ms)}
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
CLAIM_INDEX = Topic("claim-index", "ClaimAccount", "claim_id", PARTITIONS,
                    doc="Repartition: claim id -> account from every built claim (`waiting` "
                        "empty), keyed by claim id so it meets `remittances-unmatched` and "
                        "`claim-accounts` on the same partition (internal).")
CLAIM_STATUS = Topic("claim-status", "ClaimStatusReported", "claim_id", PARTITIONS,
                     doc="Claim acknowledgements from X12 277CA, keyed by claim id (input).")
ENCOUNTERS_CODED = Topic("encounters-coded", "EncounterCoded", "account_id", PARTITIONS,
                         doc="Encounters coded automatically.")
CODING_REVIEW = Topic("coding-review", "CodingReviewRequested", "account_id", PARTITIONS,
                      doc="Encounters a coder must review, with reasons.")
CODING_DECISIONS = Topic("coding-decisions", "CodingDecision", "account_id", PARTITIONS,
                         doc="Coders' decisions on reviewed encounters (input).")
# An encounter the coding stage keeps for a correction is of no use once no payer takes its claim
# (processors.coding.decisions.CORRECTION_WINDOW_DAYS after the date of service, the longest timely
# filing limit); its entry is written after that date, and this leaves a month for a processor that
# is behind (docs/operations.md, "How long the coding stage keeps an encounter").
CODING_PENDING_RETENTION_DAYS = 400
CODING_PENDING = Topic("coding-pending", "PendingCoding", "encounter_id", PARTITIONS, compacted=True,
                       expiring=True, retention_ms=CODING_PENDING_RETENTION_DAYS * 24 * 3600 * 1000,
                       doc="Processor state: encounters in review, early decisions, coded "
                           "encounters kept for a correction (compacted, an entry not written for "
                           f"{CODING_PENDING_RETENTION_DAYS} days deleted; keyed by encounter, "
                           "partitioned by account; internal).")
CLAIM_STATE = Topic("claim-state", "ClaimState", "claim_id", PARTITIONS, compacted=True,
                    doc="Processor state: each claim's last version, content, payer claim number "
                        "and secondary billing (compacted; keyed by claim, partitioned by account; "
                        "internal).")
ENCOUNTER_CHARGES = Topic("encounter-charges", "EncounterCharges", "encounter_id", PARTITIONS,
                          compacted=True,
                          doc="Processor state: the charges posted per encounter, so a corrected "
                              "re-send posts the difference (compacted; keyed by encounter, "
                              "partitioned by account; internal).")
CLAIMS_SUBMITTED = Topic("claims-submitted", "ClaimBuilt", "account_id", PARTITIONS,
                         doc="Claims the hospital's own billing system already submitted, from X12 "
                             "837P/837I: status SUBMITTED, codes as billed (input).")
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
DENIAL_PATTERNS = Topic("denial-patterns", "DenialPattern", "rule_id", PARTITIONS,
                        doc="Repartition: one record per denied service line, keyed by its pattern "
                            "(payer/CARC/procedure; internal).")
DENIAL_PATTERN_COUNTS = Topic("denial-pattern-counts", "DenialPattern", "rule_id", PARTITIONS,
                              compacted=True,
                              doc="Processor state: distinct denials counted per pattern, proposed "
                                  "or not (compacted; internal).")
SCRUB_RULE_PROPOSALS = Topic("scrub-rule-proposals", "ScrubRuleProposed", "rule_id", PARTITIONS,
                             doc="Scrub rules proposed from recurring denial patterns, for a person "
                                 "to accept or reject.")
SCRUB_RULE_DECISIONS = Topic("scrub-rule-decisions", "ScrubRuleDecision", "rule_id", PARTITIONS,
                             doc="People's decisions on proposed scrub rules (input).")
SCRUB_RULES = Topic("scrub-rules", "ScrubRule", "rule_id", PARTITIONS, compacted=True,
                    doc="Decided scrub rules, ACTIVE or REJECTED (compacted); the claim scrubber "
                        "holds claims matching an ACTIVE one.")
KPIS = Topic("kpis", "KpiValue", "kpi", 1, compacted=True,
            doc="Revenue-cycle KPIs per event-time day, DAILY and ROLLING_30D (compacted; key "
                "kpi|window|day, see kpi_key).")
AR_AGING_SNAPSHOTS = Topic("ar-aging-snapshots", "ArAgingSnapshot", "day", 1, compacted=True,
                           doc="Open A/R per event-time day, payer, responsibility and aging bucket "
                               "(compacted; key day|payer|responsibility|bucket, see "
                               "aging_snapshot_key).")
DEAD_LETTERS = Topic("dead-letters", "DeadLetter", "source_topic", 1,
                     retention_ms=30 * 24 * 3600 * 1000,
                     doc="Records a stage could not process, with the reason.")

ALL: tuple[Topic, ...] = (
    ENCOUNTERS, REMITTANCES, PAYMENTS, CODING_DECISIONS, VISIT_EVENTS, REMITTANCES_UNMATCHED,
    CLAIM_STATUS, ENCOUNTERS_CODED, CODING_REVIEW, CODING_PENDING, VISITS_PENDING, CLAIM_ACCOUNTS,
    CLAIM_STATE, ENCOUNTER_CHARGES, CLAIMS, DENIALS, LEDGER_ENTRIES, ACCOUNT_BALANCES, DEAD_LETTERS,
    DENIAL_PATTERNS, DENIAL_PATTERN_COUNTS, SCRUB_RULE_PROPOSALS, SCRUB_RULE_DECISIONS, SCRUB_RULES,
    KPIS, AR_AGING_SNAPSHOTS,
    APPEALS, CLAIMS_SUBMITTED, DENIALS_OPEN, DENIAL_LIFECYCLE, DEADLINE_APPROACHING, DENIAL_EXPIRED,
    CLAIM_INDEX,
)
INPUTS: tuple[Topic, ...] = (ENCOUNTERS, REMITTANCES, PAYMENTS, APPEALS)  # what hospital systems emit
BY_NAME: dict[str, Topic] = {t.name: t for t in ALL}


def kpi_key(record: dict) -> bytes:
    """Key of a KpiValue on `kpis`: one compacted value per KPI, window and day."""
    return f"{record['kpi']}|{record['window']}|{record['day'].isoformat()}".encode()


def aging_snapshot_key(record: dict) -> bytes:
    """Key of an ArAgingSnapshot on `ar-aging-snapshots`: one value per day and cell."""
    return (f"{record['day'].isoformat()}|{record['payer_id']}|{record['responsibility']}|"
            f"{record['bucket']}").encode()
