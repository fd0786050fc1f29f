"""What each KPI on the `kpis` topic means: its parts, windows, and the HFMA MAP Key it follows.

The numbers come from one SQL definition, kpi_values(day) in sinks/postgres/views/50_kpis.sql,
which the `kpis` topic, `rcm report` and the kpi_latest view all read, on event time. This catalog is
what a reader needs to trust them: the HFMA MAP Key name where one exists (the KPI is named after
it) and, always, how we differ from it. tests/unit/test_kpi_catalog.py checks the names against
HFMA's and docs/kpis.md against this catalog; tests/integration/test_kpi_stream.py checks that
kpi_values publishes exactly these.
"""
from __future__ import annotations

from dataclasses import dataclass

BOTH = ("DAILY", "ROLLING_30D")
END_OF_DAY = ("DAILY",)


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str  # RATIO, DAYS or CENTS
    windows: tuple[str, ...]
    numerator: str
    denominator: str
    hfma: str | None  # the MAP Key's name as HFMA writes it; None when there is none
    deviation: str  # how we differ from the MAP Key (or, with none, what we follow instead)


STAGES = ("in_coding_review", "coded_not_claimed", "claim_held", "built_not_submitted",
          "rejected_by_payer", "awaiting_adjudication", "denied_open", "patient_responsibility")

CATALOG: tuple[Kpi, ...] = (
    Kpi("clean_claim_rate", "RATIO", BOTH,
        "claims CLEAN at their first build (passed every scrubber edit, no manual intervention)",
        "claims first built", "Clean Claim Rate",
        "claims are counted on the day of their first build; only our scrubber's edits count "
        "(a payer or clearinghouse rejection is first_pass_acceptance_rate)"),
    Kpi("first_pass_acceptance_rate", "RATIO", BOTH,
        "claims whose first front-end acknowledgement accepted them (the first 277CA, or an earlier "
        "999 rejecting the 837 set; 277 responses and 999 acceptances do not decide)",
        "claims with such an acknowledgement, on the day of it",
        None, "no MAP Key; the clearinghouse/payer front-end acceptance rate of the industry"),
    Kpi("remittance_denial_rate", "RATIO", BOTH,
        "remitted claims with at least one denial (zero or partial pay)",
        "claims with a remittance, on the day of their first", "Remittance Denial Rate",
        "each claim counts once, on the day of its first remittance (the issue's initial denial "
        "rate); HFMA counts remittances"),
    Kpi("remittance_denial_rate_dollars", "RATIO", BOTH,
        "denied cents of those claims", "total charge cents of those claims", None,
        "no MAP Key: the dollar form of Remittance Denial Rate"),
    Kpi("first_pass_resolution_rate", "RATIO", BOTH,
        "remitted claims settled by one remittance, no denial, no insurance balance left",
        "claims with a remittance, on the day of their first", None,
        "no MAP Key; the industry first-pass resolution (first-pass yield) rate"),
    Kpi("net_collection_rate", "RATIO", BOTH,
        "payer and patient payments net of refunds posted in the window",
        "charges - contractual adjustments posted in the window", None,
        "no MAP Key (nearest: Cash Collections as a Percentage of Net Patient Service Revenue); "
        "the MGMA adjusted collection rate"),
    Kpi("time_to_bill_days", "DAYS", BOTH,
        "sum of days from last date of service to first build", "claims first built", None,
        "no MAP Key (HFMA measures the same delay as DNFB days)"),
    Kpi("net_days_in_ar", "DAYS", END_OF_DAY,
        "open A/R cents at the end of the day (every ledger entry, credit balances netted)",
        "charges - contractual adjustments of the 90 days ending on the day (value = N / (D / 90))",
        "Net Days in Accounts Receivable (A/R)",
        "net A/R is the ledger balance (no allowance for bad debt or charity); net revenue is "
        "charges less contractual adjustments of 90 days, not the income statement's 3 months"),
    Kpi("aged_ar_over_90_rate", "RATIO", END_OF_DAY,
        "open A/R cents aged > 90 days from the date of service (FIFO)", "open A/R cents",
        "Aged A/R as a Percentage of Total A/R",
        "the > 90 days share only; aged from the date of service of the oldest open charge; "
        "credit balances left out"),
    Kpi("dnfb_days", "DAYS", END_OF_DAY,
        "gross charge cents of encounters discharged, in coding or coded, with no claim built",
        "gross charges of the 90 days ending on the day (value = N / (D / 90))",
        "Days in Total Discharged Not Final Billed (DNFB)",
        "final billed = claim built; an encounter counts once it reached coding (dead-lettered "
        "ones never do); discharge = discharged_at, else the last date of service; 90 days of "
        "gross revenue"),
    Kpi("fbns_days", "DAYS", END_OF_DAY,
        "gross charge cents of claims built (CLEAN or HELD) not yet in an 837, acknowledged or "
        "remitted", "gross charges of the 90 days ending on the day (value = N / (D / 90))",
        "Days in Final Billed Not Submitted to Payer (FBNS)",
        "claims rejected by a 277CA are not counted (they are in stage rejected_by_payer)"),
    Kpi("dnsp_days", "DAYS", END_OF_DAY,
        "DNFB + FBNS gross charge cents",
        "gross charges of the 90 days ending on the day (value = N / (D / 90))",
        "Days in Total Discharged Not Submitted to Payer (DNSP)", "as for DNFB and FBNS"),
    *(Kpi(f"stage_dollars.{stage}", "CENTS", END_OF_DAY, "cents waiting in the stage",
          "items (encounters, claims or accounts) in it", None,
          "no MAP Key: operational, the money behind each work queue")
      for stage in STAGES),
)

BY_NAME: dict[str, Kpi] = {k.name: k for k in CATALOG}
