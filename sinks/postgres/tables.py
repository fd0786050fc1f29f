"""What the sink writes: one `Table` per PostgreSQL table it fills, and which schema feeds which.

Data only (the logic is in `writer.py`): each table names its columns, its key, and how one decoded
record becomes its row (or rows).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


def _default(obj):
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return obj.hex()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _json(value) -> str:
    """JSON text for a jsonb column (the COPY stream carries it as text)."""
    return json.dumps(value, default=_default, separators=(",", ":"))


def _drg(drg: dict | None) -> tuple[str | None, str | None]:
    return (drg["drg"], drg.get("mdc")) if drg else (None, None)


def _coded_by(ref: dict | None) -> tuple:
    if ref is None:
        return (None, None, None, None)
    return (ref["decision_id"], ref["coder_id"], ref["decided_at"], list(ref["suggested"]))


def _lifecycle(r: dict) -> tuple:
    """version, frequency_code, payer_sequence, primary_claim_id, original_reference,
    secondary_payer_id (defaults for claims built before versions existed)."""
    return (r.get("version") or 1, r.get("frequency_code") or "1",
            r.get("payer_sequence") or "PRIMARY", r.get("primary_claim_id"),
            r.get("original_reference"), r.get("secondary_payer_id"))


def _is_set_result(r: dict) -> bool:
    """A 999's result for a whole 837 set: no claim id, the set named by its control number."""
    return not r["claim_id"] and bool(r.get("set_control_number"))


def _units(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _allowed(r: dict) -> int | None:
    """The claim's allowed amount: its lines' AMT*B6, only when every line has one."""
    allowed = [line.get("allowed_cents") for line in r["lines"]]
    return sum(allowed) if allowed and None not in allowed else None


def _remittance(r: dict) -> tuple:
    return (r["event_id"], r["remittance_id"], r["claim_id"], r["account_id"], r["payer_id"],
            r.get("payer_name"), r["payer_claim_control_number"], r["trace_number"],
            r["claim_status"], r["total_charge_cents"], r["total_paid_cents"],
            r["patient_responsibility_cents"], _allowed(r), r.get("check_amount_cents"),
            r.get("claim_filing_indicator"), r.get("facility_type_code"),
            r.get("claim_frequency_code"), r.get("drg_code"), r.get("statement_start"),
            r.get("statement_end"), r.get("received_on"), _json(r["claim_adjustments"]),
            list(r["remarks"]), _json(r.get("amounts") or []), _json(r.get("adjudication") or []),
            _json(r.get("provider_adjustments") or []), len(r["lines"]), r["occurred_at"],
            r["emitted_at"])


def _remittance_lines(r: dict) -> list[tuple]:
    return [(f"{r['event_id']}:{n}", r["event_id"], n, r["claim_id"], line["line"],
             line.get("line_control_number"), line.get("procedure_qualifier"),
             line["procedure_code"], list(line.get("modifiers") or []), line.get("revenue_code"),
             line.get("original_procedure_code"), list(line.get("original_modifiers") or []),
             line["units"], _units(line.get("units_paid")), _units(line.get("units_billed")),
             line["charge_cents"], line["paid_cents"], line.get("allowed_cents"),
             line.get("service_start"), line.get("service_end"), _json(line["adjustments"]),
             list(line["remarks"]), _json(line.get("amounts") or []))
            for n, line in enumerate(r["lines"], start=1)]


@dataclass(frozen=True)
class Table:
    """A table the sink fills: `row` turns one decoded record into its row (rows when `many`)."""

    name: str
    columns: tuple[str, ...]
    key: str
    row: object  # callable(dict) -> tuple, or -> list[tuple] when `many`
    many: bool = False
    newer: str | None = None  # a column: a row with a higher value replaces the stored one
    companion: bool = False  # a second table fed by the same records: not counted as inserted


TABLES: dict[str, Table] = {t.name: t for t in (
    Table("claims", ("claim_id", "account_id", "encounter_id", "payer_id", "plan_type", "claim_type",
                      "status", "total_charge_cents", "edits", "warnings", "lines", "diagnosis_codes",
                      "service_start", "service_end", "built_at", "source_event_id",
                      "source_emitted_at", "drg", "drg_mdc", "pcs_codes", "version",
                      "frequency_code", "payer_sequence", "primary_claim_id",
                      "original_reference", "secondary_payer_id", "other_payer"), "claim_id",
           lambda r: (r["claim_id"], r["account_id"], r["encounter_id"], r["payer_id"],
                      r["plan_type"], r["claim_type"], r["status"], r["total_charge_cents"],
                      _json(r["edits"]), _json(r.get("warnings") or []), _json(r["lines"]),
                      list(r["diagnosis_codes"]),
                      r["service_start"], r["service_end"], r["occurred_at"],
                      r["source_event_id"], r["source_emitted_at"], *_drg(r.get("drg")),
                      list(r.get("pcs_codes") or []), *_lifecycle(r),
                      _json(r["other_payer"]) if r.get("other_payer") else None),
           newer="version"),
    Table("claim_versions", ("version_id", "claim_id", "version", "frequency_code",
                              "payer_sequence", "primary_claim_id", "account_id", "payer_id",
                              "status", "total_charge_cents", "original_reference", "built_at",
                              "event_id", "source_event_id", "encounter_id", "edits",
                              "service_end"), "version_id",
           lambda r: (f"{r['claim_id']}:v{r.get('version') or 1}", r["claim_id"],
                      *_lifecycle(r)[:4], r["account_id"], r["payer_id"], r["status"],
                      r["total_charge_cents"], r.get("original_reference"), r["occurred_at"],
                      r["event_id"], r["source_event_id"], r["encounter_id"], _json(r["edits"]),
                      r["service_end"])),
    Table("coding_review", ("review_id", "encounter_id", "account_id", "payer_id",
                             "encounter_class", "total_charge_cents", "reasons", "suggestions",
                             "requested_at", "source_event_id", "source_emitted_at",
                             "patient_age", "patient_sex", "date_of_service"), "review_id",
           lambda r: (r["event_id"], r["encounter_id"], r["account_id"], r["payer_id"],
                      r["encounter_class"], r["total_charge_cents"], list(r["reasons"]),
                      _json(r["suggestions"]), r["occurred_at"], r["source_event_id"],
                      r["source_emitted_at"], r.get("patient_age"), r.get("patient_sex"),
                      r.get("date_of_service"))),
    Table("encounters_coded", ("event_id", "encounter_id", "account_id", "payer_id", "plan_type",
                                "encounter_class", "patient_age", "patient_sex", "service_start",
                                "service_end", "diagnoses", "procedures", "total_charge_cents",
                                "coded_at", "source_event_id", "source_emitted_at", "drg",
                                "pcs_codes", "decision_id", "coder_id", "decided_at",
                                "suggested_codes"), "event_id",
           lambda r: (r["event_id"], r["encounter_id"], r["account_id"], r["payer_id"],
                      r["plan_type"], r["encounter_class"], r["patient_age"], r["patient_sex"],
                      r["service_start"], r["service_end"], _json(r["diagnoses"]),
                      _json(r["procedures"]), sum(p["charge_cents"] for p in r["procedures"]),
                      r["occurred_at"], r["source_event_id"], r["source_emitted_at"],
                      _drg(r.get("drg"))[0],
                      [p["code"] for p in r.get("procedures_pcs") or []],
                      *_coded_by(r.get("coded_by")))),
    Table("denials", ("denial_id", "remittance_id", "claim_id", "account_id", "payer_id", "line",
                       "group_code", "reason_code", "category", "preventable", "amount_cents",
                       "denied_on", "appeal_deadline", "remarks", "source_event_id",
                       "source_emitted_at", "owner_queue"), "denial_id",
           lambda r: (r["denial_id"], r["remittance_id"], r["claim_id"], r["account_id"],
                      r["payer_id"], r["line"], r["group_code"], r["reason_code"], r["category"],
                      r["preventable"], r["amount_cents"], r["denied_on"], r["appeal_deadline"],
                      list(r["remarks"]), r["source_event_id"], r["source_emitted_at"],
                      r.get("owner_queue") or "BILLING")),
    Table("ledger_entries", ("entry_id", "account_id", "kind", "insurance_delta_cents",
                              "patient_delta_cents", "posted_at", "reference", "payer_id",
                              "reason", "source_event_id", "source_emitted_at"), "entry_id",
           lambda r: [(e["entry_id"], r["account_id"], e["kind"], e["insurance_delta_cents"],
                       e["patient_delta_cents"], r["posted_at"], r["reference"], r["payer_id"],
                       e["reason"], r["source_event_id"], r["source_emitted_at"])
                      for e in r["entries"]],
           many=True),
    Table("claim_status_events", ("event_id", "claim_id", "payer_id", "accepted", "categories",
                                   "statuses", "total_charge_cents", "payer_claim_control_number",
                                   "service_start", "service_end", "reported_at", "emitted_at",
                                   "transaction", "paid_cents", "adjudicated_on", "remitted_on",
                                   "remittance_trace", "submitter_id", "group_control_number",
                                   "set_control_number"),
           "event_id",
           lambda r: [] if _is_set_result(r) else [(
                      r["event_id"], r["claim_id"], r["payer_id"], r["accepted"],
                      [s["category"] for s in r["statuses"]], _json(r["statuses"]),
                      r["total_charge_cents"], r["payer_claim_control_number"],
                      r["service_start"], r["service_end"], r["occurred_at"], r["emitted_at"],
                      r.get("transaction") or "277CA", r.get("paid_cents"),
                      r.get("adjudicated_on"), r.get("remitted_on"), r.get("remittance_trace"),
                      r.get("submitter_id"), r.get("group_control_number"),
                      r.get("set_control_number"))],
           many=True),
    # A 999's result for a whole 837 set (claim id empty): the claims it carried are joined in SQL
    # (x12_set_acknowledged_claims, migration 0022).
    Table("x12_set_acknowledgements", ("event_id", "submitter_id", "receiver_id",
                                        "group_control_number", "set_control_number", "accepted",
                                        "categories", "statuses", "reported_at", "emitted_at"),
           "event_id",
           lambda r: [(r["event_id"], r.get("submitter_id") or "", r["payer_id"],
                       r.get("group_control_number") or "", r["set_control_number"],
                       r["accepted"], [s["category"] for s in r["statuses"]],
                       _json(r["statuses"]), r["occurred_at"], r["emitted_at"])]
           if _is_set_result(r) else [],
           many=True),
    Table("remittances", ("event_id", "remittance_id", "claim_id", "account_id", "payer_id",
                           "payer_name", "payer_claim_control_number", "trace_number",
                           "claim_status", "total_charge_cents", "total_paid_cents",
                           "patient_responsibility_cents", "allowed_cents", "check_amount_cents",
                           "claim_filing_indicator", "facility_type_code", "claim_frequency_code",
                           "drg_code", "statement_start", "statement_end", "received_on",
                           "claim_adjustments", "remarks", "amounts", "adjudication",
                           "provider_adjustments", "line_count", "paid_at", "emitted_at"),
           "event_id", _remittance),
    Table("remittance_lines", ("line_id", "event_id", "position", "claim_id", "line",
                                "line_control_number", "procedure_qualifier", "procedure_code",
                                "modifiers", "revenue_code", "original_procedure_code",
                                "original_modifiers", "units", "units_paid", "units_billed",
                                "charge_cents", "paid_cents", "allowed_cents", "service_start",
                                "service_end", "adjustments", "remarks", "amounts"),
           "line_id", _remittance_lines, many=True, companion=True),
    Table("denial_procedures", ("denial_id", "rule_id", "procedure_code", "source_emitted_at"),
           "denial_id",
           lambda r: [(d["denial_id"], r["rule_id"], r["procedure_code"], r["source_emitted_at"])
                      for d in r["denials"]],
           many=True),
    Table("proposed_scrub_rules", ("rule_id", "payer_id", "reason_code", "procedure_code",
                                    "category", "preventable", "denial_count", "denied_cents",
                                    "threshold", "example_denial_ids", "example_claim_ids",
                                    "first_denied_on", "last_denied_on", "event_id",
                                    "source_emitted_at"), "rule_id",
           lambda r: (r["rule_id"], r["payer_id"], r["reason_code"], r["procedure_code"],
                      r["category"], r["preventable"], r["denial_count"], r["denied_cents"],
                      r["threshold"], list(r["example_denial_ids"]), list(r["example_claim_ids"]),
                      r["first_denied_on"], r["last_denied_on"], r["event_id"],
                      r["source_emitted_at"])),
    Table("scrub_rule_decisions", ("decision_id", "rule_id", "status", "payer_id", "reason_code",
                                    "procedure_code", "denial_count", "denied_cents", "decided_by",
                                    "role", "decided_at", "source_emitted_at"), "decision_id",
           lambda r: (r["event_id"], r["rule_id"], r["status"], r["payer_id"], r["reason_code"],
                      r["procedure_code"], r["denial_count"], r["denied_cents"], r["decided_by"],
                      r["role"], r["decided_at"], r["source_emitted_at"])),
    Table("encounter_discharges", ("event_id", "encounter_id", "account_id", "payer_id",
                                    "encounter_class", "service_end", "discharged_at",
                                    "total_charge_cents", "received_at", "emitted_at"), "event_id",
           lambda r: (r["event_id"], r["encounter_id"], r["account_id"], r["payer_id"],
                      r["encounter_class"], r["service_end"], r.get("discharged_at"),
                      sum(c["units"] * c["unit_price_cents"] for c in r["charges"]),
                      r["occurred_at"], r["emitted_at"])),
    Table("denial_events", ("event_id", "denial_id", "claim_id", "account_id", "version", "action",
                             "status", "amount_cents", "open_cents", "occurred_at", "reference",
                             "reason_code", "source_emitted_at"), "event_id",
           lambda r: (r["event_id"], r["denial_id"], r["claim_id"], r["account_id"], r["version"],
                      r["action"], r["status"], r["amount_cents"], r["open_cents"],
                      r["occurred_at"], r["reference"], r["reason_code"], r["source_emitted_at"])),
    Table("denial_deadline_alerts", ("alert_id", "kind", "denial_id", "claim_id", "account_id",
                                      "payer_id", "owner_queue", "open_cents", "appeal_deadline",
                                      "clock_at", "source_emitted_at"), "alert_id",
           lambda r: (r["event_id"], r["kind"], r["denial_id"], r["claim_id"], r["account_id"],
                      r["payer_id"], r["owner_queue"], r["open_cents"], r["appeal_deadline"],
                      r["clock_at"], r["source_emitted_at"])),
    Table("dead_letters", ("event_id", "source_topic", "source_partition", "source_offset",
                            "stage", "error", "reason", "payload", "key", "dead_lettered_at"),
           "event_id",
           lambda r: (r["event_id"], r["source_topic"], r["source_partition"], r["source_offset"],
                      r["stage"], r["error"], r["reason"], bytes(r["payload"]),
                      None if r["key"] is None else bytes(r["key"]), r["dead_lettered_at"])),
)}

TABLE_OF_SCHEMA = {
    "ClaimBuilt": ("claims", "claim_versions"),
    "CodingReviewRequested": "coding_review",
    "EncounterCoded": "encounters_coded",
    "DenialFlagged": "denials",
    "LedgerEntriesPosted": "ledger_entries",
    "DeadLetter": "dead_letters",
    "ClaimStatusReported": ("claim_status_events", "x12_set_acknowledgements"),
    "RemittanceReceived": ("remittances", "remittance_lines"),
    "DenialPattern": "denial_procedures",
    "ScrubRuleProposed": "proposed_scrub_rules",
    "ScrubRule": "scrub_rule_decisions",
    "EncounterReceived": "encounter_discharges",
    "DenialStatusChanged": "denial_events",
    "DenialDeadline": "denial_deadline_alerts",
}
