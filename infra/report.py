"""Read the results back from PostgreSQL: the demo summary and the ground-truth reconciliation."""
from __future__ import annotations

import psycopg2

from infra.money import money  # noqa: F401 - the demo summary formats with report.money


def query(dsn: str, sql: str, args: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def balances(dsn: str) -> dict[str, tuple[int, int, int]]:
    rows = query(dsn, "select account_id, insurance_cents, patient_cents, total_cents from account_balances")
    return {a: (int(i), int(p), int(t)) for a, i, p, t in rows}


def reconcile(dsn: str, truth: dict) -> list[str]:
    """Differences between PostgreSQL balances and the ground truth, as readable lines (empty = exact)."""
    expected = truth["accounts"]
    actual = balances(dsn)
    problems: list[str] = []
    for account, exp in expected.items():
        got = actual.get(account)
        want = (exp["insurance_cents"], exp["patient_cents"], exp["total_cents"])
        if got != want:
            problems.append(f"{account}: expected {want}, got {got}")
    for account in actual.keys() - expected.keys():
        problems.append(f"{account}: in PostgreSQL but not in the ground truth: {actual[account]}")
    for account, (i, p, t) in actual.items():
        if i + p != t:
            problems.append(f"{account}: insurance {i} + patient {p} != total {t}")
    return problems


def latency_ms(dsn: str) -> dict[str, float]:
    row = query(dsn, """
        select percentile_cont(array[0.5, 0.95, 0.99]) within group (
                 order by extract(epoch from applied_at - source_emitted_at) * 1000)
          from ledger_entries""")[0][0]
    if not row:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    return {"p50": float(row[0]), "p95": float(row[1]), "p99": float(row[2])}


def summary(dsn: str) -> dict:
    one = lambda sql: query(dsn, sql)
    totals = one("""select coalesce(sum(charges_cents),0), coalesce(sum(payments_cents),0),
                           coalesce(sum(adjustments_cents),0), coalesce(sum(insurance_cents),0),
                           coalesce(sum(patient_cents),0), coalesce(sum(total_cents),0), count(*)
                      from account_balances""")[0]
    return {
        "claims": dict(one("select status, count(*) from claims group by 1 order by 1")),
        "claim_edits": one("""select e->>'edit', count(distinct claim_id) from claims,
                              jsonb_array_elements(edits) e group by 1 order by 2 desc"""),
        "claim_warnings": one("""select w->>'edit', count(distinct claim_id) from claims,
                                 jsonb_array_elements(warnings) w group by 1 order by 2 desc"""),
        "coding_review": one("select count(*) from coding_review")[0][0],
        "coding": dict(zip(("encounters", "auto_coded", "in_review", "released", "auto_code_rate",
                            "decision_exact_agreement", "code_agreement"),
                           one("""select encounters, auto_coded, in_review, released,
                                         auto_code_rate, decision_exact_agreement, code_agreement
                                    from coding_kpis""")[0], strict=True)),
        "drgs": one("""select drg, count(*) from claims where drg is not null
                       group by 1 order by 2 desc, 1 limit 5"""),
        "encounters_coded": one("select count(*) from encounters_coded")[0][0],
        "denials": one("""select category, count(*), sum(amount_cents) from denials
                          group by 1 order by 2 desc"""),
        "denial_status": one("""select status, count(*), sum(amount_cents - written_off_cents)
                                from denials group by 1 order by 2 desc"""),
        "deadline_alerts": dict(one("select kind, count(*) from denial_deadline_alerts group by 1")),
        "dead_letters": one("""select source_topic, error, count(*) from dead_letters
                               group by 1, 2 order by 1, 2"""),
        "charges": totals[0], "payments": totals[1], "adjustments": totals[2],
        "insurance": totals[3], "patient": totals[4], "total": totals[5], "accounts": totals[6],
        "latency_ms": latency_ms(dsn),
    }


def query_commit(dsn: str, sql: str, args: tuple = ()) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, args)
    finally:
        conn.close()
