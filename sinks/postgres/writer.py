"""Write one batch of decoded records to PostgreSQL in one transaction, with the offsets it covers.

Rows go in with multi-row INSERT ... ON CONFLICT DO NOTHING, so a redelivered record changes
nothing. Only ledger entries that were actually inserted move `account_balances`, aggregated per
account in SQL. The batch's next offsets are upserted in the same transaction: the effect and the
progress commit together, which keeps balances exact to the cent across crashes and rebalances.
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import psycopg2
from psycopg2.extras import Json, execute_values


@dataclass(frozen=True)
class SinkRecord:
    """A decoded record and where it was read. `schema` picks the table (DeadLetter for sink rejects)."""

    topic: str
    partition: int
    offset: int
    schema: str
    value: dict


@dataclass(frozen=True)
class BatchResult:
    inserted: dict[str, int] = field(default_factory=dict)  # table -> new rows
    balances: list[dict] = field(default_factory=list)  # AccountBalanceUpdated dicts, committed
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> next


def _default(obj):
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return obj.hex()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _json(value) -> Json:
    return Json(value, dumps=lambda v: json.dumps(v, default=_default, separators=(",", ":")))


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
class _Table:
    name: str
    columns: tuple[str, ...]
    key: str
    row: object  # callable(dict) -> tuple, or -> list[tuple] when `many`
    many: bool = False
    newer: str | None = None  # a column: a row with a higher value replaces the stored one
    companion: bool = False  # a second table fed by the same records: not counted as inserted


_TABLES: dict[str, _Table] = {t.name: t for t in (
    _Table("claims", ("claim_id", "account_id", "encounter_id", "payer_id", "plan_type", "claim_type",
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
    _Table("claim_versions", ("version_id", "claim_id", "version", "frequency_code",
                              "payer_sequence", "primary_claim_id", "account_id", "payer_id",
                              "status", "total_charge_cents", "original_reference", "built_at",
                              "event_id", "source_event_id", "encounter_id", "edits",
                              "service_end"), "version_id",
           lambda r: (f"{r['claim_id']}:v{r.get('version') or 1}", r["claim_id"],
                      *_lifecycle(r)[:4], r["account_id"], r["payer_id"], r["status"],
                      r["total_charge_cents"], r.get("original_reference"), r["occurred_at"],
                      r["event_id"], r["source_event_id"], r["encounter_id"], _json(r["edits"]),
                      r["service_end"])),
    _Table("coding_review", ("review_id", "encounter_id", "account_id", "payer_id",
                             "encounter_class", "total_charge_cents", "reasons", "suggestions",
                             "requested_at", "source_event_id", "source_emitted_at",
                             "patient_age", "patient_sex", "date_of_service"), "review_id",
           lambda r: (r["event_id"], r["encounter_id"], r["account_id"], r["payer_id"],
                      r["encounter_class"], r["total_charge_cents"], list(r["reasons"]),
                      _json(r["suggestions"]), r["occurred_at"], r["source_event_id"],
                      r["source_emitted_at"], r.get("patient_age"), r.get("patient_sex"),
                      r.get("date_of_service"))),
    _Table("encounters_coded", ("event_id", "encounter_id", "account_id", "payer_id", "plan_type",
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
    _Table("denials", ("denial_id", "remittance_id", "claim_id", "account_id", "payer_id", "line",
                       "group_code", "reason_code", "category", "preventable", "amount_cents",
                       "denied_on", "appeal_deadline", "remarks", "source_event_id",
                       "source_emitted_at", "owner_queue"), "denial_id",
           lambda r: (r["denial_id"], r["remittance_id"], r["claim_id"], r["account_id"],
                      r["payer_id"], r["line"], r["group_code"], r["reason_code"], r["category"],
                      r["preventable"], r["amount_cents"], r["denied_on"], r["appeal_deadline"],
                      list(r["remarks"]), r["source_event_id"], r["source_emitted_at"],
                      r.get("owner_queue") or "BILLING")),
    _Table("ledger_entries", ("entry_id", "account_id", "kind", "insurance_delta_cents",
                              "patient_delta_cents", "posted_at", "reference", "payer_id",
                              "reason", "source_event_id", "source_emitted_at"), "entry_id",
           lambda r: [(e["entry_id"], r["account_id"], e["kind"], e["insurance_delta_cents"],
                       e["patient_delta_cents"], r["posted_at"], r["reference"], r["payer_id"],
                       e["reason"], r["source_event_id"], r["source_emitted_at"])
                      for e in r["entries"]],
           many=True),
    _Table("claim_status_events", ("event_id", "claim_id", "payer_id", "accepted", "categories",
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
    _Table("x12_set_acknowledgements", ("event_id", "submitter_id", "receiver_id",
                                        "group_control_number", "set_control_number", "accepted",
                                        "categories", "statuses", "reported_at", "emitted_at"),
           "event_id",
           lambda r: [(r["event_id"], r.get("submitter_id") or "", r["payer_id"],
                       r.get("group_control_number") or "", r["set_control_number"],
                       r["accepted"], [s["category"] for s in r["statuses"]],
                       _json(r["statuses"]), r["occurred_at"], r["emitted_at"])]
           if _is_set_result(r) else [],
           many=True),
    _Table("remittances", ("event_id", "remittance_id", "claim_id", "account_id", "payer_id",
                           "payer_name", "payer_claim_control_number", "trace_number",
                           "claim_status", "total_charge_cents", "total_paid_cents",
                           "patient_responsibility_cents", "allowed_cents", "check_amount_cents",
                           "claim_filing_indicator", "facility_type_code", "claim_frequency_code",
                           "drg_code", "statement_start", "statement_end", "received_on",
                           "claim_adjustments", "remarks", "amounts", "adjudication",
                           "provider_adjustments", "line_count", "paid_at", "emitted_at"),
           "event_id", _remittance),
    _Table("remittance_lines", ("line_id", "event_id", "position", "claim_id", "line",
                                "line_control_number", "procedure_qualifier", "procedure_code",
                                "modifiers", "revenue_code", "original_procedure_code",
                                "original_modifiers", "units", "units_paid", "units_billed",
                                "charge_cents", "paid_cents", "allowed_cents", "service_start",
                                "service_end", "adjustments", "remarks", "amounts"),
           "line_id", _remittance_lines, many=True, companion=True),
    _Table("denial_procedures", ("denial_id", "rule_id", "procedure_code", "source_emitted_at"),
           "denial_id",
           lambda r: [(d["denial_id"], r["rule_id"], r["procedure_code"], r["source_emitted_at"])
                      for d in r["denials"]],
           many=True),
    _Table("proposed_scrub_rules", ("rule_id", "payer_id", "reason_code", "procedure_code",
                                    "category", "preventable", "denial_count", "denied_cents",
                                    "threshold", "example_denial_ids", "example_claim_ids",
                                    "first_denied_on", "last_denied_on", "event_id",
                                    "source_emitted_at"), "rule_id",
           lambda r: (r["rule_id"], r["payer_id"], r["reason_code"], r["procedure_code"],
                      r["category"], r["preventable"], r["denial_count"], r["denied_cents"],
                      r["threshold"], list(r["example_denial_ids"]), list(r["example_claim_ids"]),
                      r["first_denied_on"], r["last_denied_on"], r["event_id"],
                      r["source_emitted_at"])),
    _Table("scrub_rule_decisions", ("decision_id", "rule_id", "status", "payer_id", "reason_code",
                                    "procedure_code", "denial_count", "denied_cents", "decided_by",
                                    "role", "decided_at", "source_emitted_at"), "decision_id",
           lambda r: (r["event_id"], r["rule_id"], r["status"], r["payer_id"], r["reason_code"],
                      r["procedure_code"], r["denial_count"], r["denied_cents"], r["decided_by"],
                      r["role"], r["decided_at"], r["source_emitted_at"])),
    _Table("encounter_discharges", ("event_id", "encounter_id", "account_id", "payer_id",
                                    "encounter_class", "service_end", "discharged_at",
                                    "total_charge_cents", "received_at", "emitted_at"), "event_id",
           lambda r: (r["event_id"], r["encounter_id"], r["account_id"], r["payer_id"],
                      r["encounter_class"], r["service_end"], r.get("discharged_at"),
                      sum(c["units"] * c["unit_price_cents"] for c in r["charges"]),
                      r["occurred_at"], r["emitted_at"])),
    _Table("denial_events", ("event_id", "denial_id", "claim_id", "account_id", "version", "action",
                             "status", "amount_cents", "open_cents", "occurred_at", "reference",
                             "reason_code", "source_emitted_at"), "event_id",
           lambda r: (r["event_id"], r["denial_id"], r["claim_id"], r["account_id"], r["version"],
                      r["action"], r["status"], r["amount_cents"], r["open_cents"],
                      r["occurred_at"], r["reference"], r["reason_code"], r["source_emitted_at"])),
    _Table("denial_deadline_alerts", ("alert_id", "kind", "denial_id", "claim_id", "account_id",
                                      "payer_id", "owner_queue", "open_cents", "appeal_deadline",
                                      "clock_at", "source_emitted_at"), "alert_id",
           lambda r: (r["event_id"], r["kind"], r["denial_id"], r["claim_id"], r["account_id"],
                      r["payer_id"], r["owner_queue"], r["open_cents"], r["appeal_deadline"],
                      r["clock_at"], r["source_emitted_at"])),
    _Table("dead_letters", ("event_id", "source_topic", "source_partition", "source_offset",
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
SKIP = "Skip"  # a record the sink only passes over (its offset still moves): see service.py

# A denial's status and written-off amount follow its latest accepted step. Run for every denial
# a batch touched (its row or a step may come first, in separate batches), after both inserts.
_FOLLOW_DENIALS_SQL = """
UPDATE denials d SET status = lower(s.status), written_off_cents = d.amount_cents - s.open_cents
FROM (SELECT DISTINCT ON (denial_id) denial_id, status, open_cents FROM denial_events
      WHERE denial_id = ANY(%s) ORDER BY denial_id, version DESC) s
WHERE d.denial_id = s.denial_id
  AND (d.status, d.written_off_cents) IS DISTINCT FROM (lower(s.status), d.amount_cents - s.open_cents)
"""

# Inserted entries only (RETURNING), aggregated per account, added onto the stored balance. The
# upsert is a data-modifying CTE: PostgreSQL runs it once whether or not the SELECT reads it.
_LEDGER_SQL = """
WITH ins AS (
    INSERT INTO ledger_entries ({columns}) SELECT {columns} FROM ledger_in
    ON CONFLICT (entry_id) DO NOTHING
    RETURNING account_id, kind, insurance_delta_cents + patient_delta_cents AS delta,
              insurance_delta_cents, patient_delta_cents
), per_account AS (
    SELECT account_id,
           sum(insurance_delta_cents) AS insurance, sum(patient_delta_cents) AS patient,
           sum(delta) FILTER (WHERE kind = 'CHARGE') AS charges,
           -sum(delta) FILTER (WHERE kind IN ('PAYER_PAYMENT', 'PATIENT_PAYMENT', 'PATIENT_REFUND'))
               AS payments,
           -sum(delta) FILTER (WHERE kind IN ('CONTRACTUAL_ADJUSTMENT', 'OTHER_ADJUSTMENT',
                                              'DENIAL_WRITE_OFF'))
               AS adjustments,
           count(*) AS n
    FROM ins GROUP BY account_id
), up AS (
    INSERT INTO account_balances AS b (account_id, insurance_cents, patient_cents, total_cents,
                                       charges_cents, payments_cents, adjustments_cents, entries,
                                       updated_at)
    SELECT account_id, insurance, patient, insurance + patient, coalesce(charges, 0),
           coalesce(payments, 0), coalesce(adjustments, 0), n, clock_timestamp()
    FROM per_account
    ON CONFLICT (account_id) DO UPDATE SET
        insurance_cents = b.insurance_cents + EXCLUDED.insurance_cents,
        patient_cents = b.patient_cents + EXCLUDED.patient_cents,
        total_cents = b.total_cents + EXCLUDED.total_cents,
        charges_cents = b.charges_cents + EXCLUDED.charges_cents,
        payments_cents = b.payments_cents + EXCLUDED.payments_cents,
        adjustments_cents = b.adjustments_cents + EXCLUDED.adjustments_cents,
        entries = b.entries + EXCLUDED.entries,
        updated_at = EXCLUDED.updated_at
    RETURNING 1
)
SELECT account_id, n FROM per_account
"""

_OFFSETS_SQL = """
INSERT INTO sink_offsets AS o (consumer_group, topic, partition, next_offset) VALUES %s
ON CONFLICT (consumer_group, topic, partition) DO UPDATE
SET next_offset = EXCLUDED.next_offset, updated_at = clock_timestamp()
WHERE EXCLUDED.next_offset > o.next_offset
"""

_BALANCE_COLUMNS = ("account_id", "insurance_cents", "patient_cents", "total_cents",
                    "charges_cents", "payments_cents", "adjustments_cents", "entries", "updated_at")


def next_offsets(records: Iterable[SinkRecord]) -> dict[tuple[str, int], int]:
    offsets: dict[tuple[str, int], int] = {}
    for rec in records:
        tp = (rec.topic, rec.partition)
        offsets[tp] = max(offsets.get(tp, 0), rec.offset + 1)
    return offsets


def write_batch(conn, group: str, records: Sequence[SinkRecord]) -> BatchResult:
    """Apply `records` and store their next offsets for `group` in one transaction; commit it."""
    by_table: dict[str, dict[str, tuple]] = {}
    for rec in records:
        if rec.schema == SKIP:
            continue
        names = TABLE_OF_SCHEMA[rec.schema]
        for table in (_TABLES[n] for n in ((names,) if isinstance(names, str) else names)):
            rows = by_table.setdefault(table.name, {})
            for row in (table.row(rec.value) if table.many else (table.row(rec.value),)):
                if table.newer and row[0] in rows:  # a later version in the same batch wins
                    at = table.columns.index(table.newer)
                    if row[at] > rows[row[0]][at]:
                        rows[row[0]] = row
                    continue
                rows.setdefault(row[0], row)  # a key twice in one batch: the first wins, as on redelivery
    offsets = next_offsets(records)
    inserted: dict[str, int] = {}
    try:
        with conn.cursor() as cur:
            touched: list[str] = []
            for name, rows in by_table.items():
                if name == "ledger_entries":
                    inserted[name], touched = _insert_ledger(cur, list(rows.values()))
                elif _TABLES[name].companion:
                    _insert(cur, _TABLES[name], list(rows.values()))
                else:
                    inserted[name] = _insert(cur, _TABLES[name], list(rows.values()))
            denial_ids = sorted({*by_table.get("denials", {}),
                                 *(row[1] for row in by_table.get("denial_events", {}).values())})
            if denial_ids:
                cur.execute(_FOLLOW_DENIALS_SQL, (denial_ids,))
            if offsets:
                execute_values(cur, _OFFSETS_SQL,
                               [(group, t, p, o) for (t, p), o in sorted(offsets.items())],
                               page_size=len(offsets))
            balances = _balances(cur, touched)
            if touched:
                cur.execute("INSERT INTO balance_outbox (account_id) SELECT unnest(%s::text[])"
                            " ON CONFLICT DO NOTHING", (touched,))
        conn.commit()
    except BaseException:
        rollback(conn)
        raise
    return BatchResult(inserted, balances, offsets)


def rollback(conn) -> None:
    """Roll back the transaction in flight. A connection that broke (the server restarted) has
    nothing left to roll back: the server discarded the transaction, and the caller's own error,
    not "connection already closed", is the one that tells what happened."""
    try:
        conn.rollback()
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        pass


def _insert(cur, table: _Table, rows: list[tuple]) -> int:
    if not rows:  # e.g. a batch of 999 set results only: no claim_status_events row
        return 0
    conflict = "DO NOTHING"
    if table.newer:  # the stored row gives way to a higher version (claims keep their latest)
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in table.columns if c != table.key)
        conflict = (f"DO UPDATE SET {sets}, applied_at = clock_timestamp() "
                    f"WHERE {table.name}.{table.newer} < EXCLUDED.{table.newer}")
    sql = (f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES %s "
           f"ON CONFLICT ({table.key}) {conflict} RETURNING 1")
    return len(execute_values(cur, sql, rows, page_size=max(1, len(rows)), fetch=True))


def _insert_ledger(cur, rows: list[tuple]) -> tuple[int, list[str]]:
    # COPY into a session temp table, then one INSERT ... SELECT: about twice the rows/s of a
    # multi-row VALUES statement, because nothing is quoted or parsed as SQL text.
    columns = ", ".join(_TABLES["ledger_entries"].columns)
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS ledger_in"
                " (LIKE ledger_entries INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
    cur.copy_expert(f"COPY ledger_in ({columns}) FROM STDIN", _copy_text(rows))
    cur.execute(_LEDGER_SQL.format(columns=columns))
    per_account = cur.fetchall()
    return sum(n for _, n in per_account), sorted({account for account, _ in per_account})


def _copy_field(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (value.replace("\\", "\\\\").replace("\t", "\\t")
                    .replace("\n", "\\n").replace("\r", "\\r"))
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _copy_text(rows: list[tuple]) -> io.StringIO:
    return io.StringIO("".join("\t".join(map(_copy_field, row)) + "\n" for row in rows))


def _balances(cur, accounts: list[str]) -> list[dict]:
    if not accounts:
        return []
    cur.execute(f"SELECT {', '.join(_BALANCE_COLUMNS)} FROM account_balances"
                " WHERE account_id = ANY(%s) ORDER BY account_id", (accounts,))
    return [dict(zip(_BALANCE_COLUMNS, row)) for row in cur.fetchall()]


def outbox_balances(conn, limit: int = 10_000) -> list[dict]:
    """Committed balances still waiting in the outbox (left there by a crash before publishing)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join('b.' + c for c in _BALANCE_COLUMNS)} FROM balance_outbox o"
                    " JOIN account_balances b USING (account_id) ORDER BY o.account_id LIMIT %s",
                    (limit,))
        rows = [dict(zip(_BALANCE_COLUMNS, row)) for row in cur.fetchall()]
    conn.rollback()
    return rows


def clear_outbox(conn, balances: list[dict]) -> None:
    """Forget accounts whose balance is now on Kafka (only if it did not change again meanwhile)."""
    if not balances:
        return
    with conn.cursor() as cur:
        execute_values(cur, "DELETE FROM balance_outbox o USING (VALUES %s) AS p (account_id, updated_at)"
                            " JOIN account_balances b USING (account_id)"
                            " WHERE o.account_id = p.account_id AND b.updated_at = p.updated_at",
                       [(b["account_id"], b["updated_at"]) for b in balances])
    conn.commit()


def stored_offsets(conn, group: str) -> dict[tuple[str, int], int]:
    """Where `group` resumes, per (topic, partition), as committed with the data."""
    with conn.cursor() as cur:
        cur.execute("SELECT topic, partition, next_offset FROM sink_offsets WHERE consumer_group = %s",
                    (group,))
        rows = cur.fetchall()
    conn.rollback()  # end the read transaction so the connection holds no snapshot while idle
    return {(t, p): o for t, p, o in rows}
