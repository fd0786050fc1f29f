"""Matching in faust's in-memory test context: remittances wait for their claim, then post."""
from __future__ import annotations

from processors import state as S
from schemas import topics as T
from tests import factories as F
from tests.stream.test_agents import CTX, collector, enc, feed, run  # noqa: F401 - the fixture

ACCOUNT = F.remittance(77)["account_id"]


def claim(claim_id: str, account_id: str = ACCOUNT) -> dict:
    return {
        "event_id": f"{claim_id}:claim", "source_event_id": "e", "source_emitted_at": F.T0,
        "claim_id": claim_id, "encounter_id": claim_id.removeprefix("CLM-"),
        "account_id": account_id, "occurred_at": F.T0, "claim_type": "PROFESSIONAL",
        "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL", "billing_provider_npi": "1234567893",
        "facility_id": "FAC01", "service_start": F.DOS, "service_end": F.DOS,
        "diagnosis_codes": ["I10"],
        "lines": [{"line": 1, "procedure_code": "99213", "modifiers": [], "revenue_code": "0510",
                   "units": 1, "charge_cents": 14500, "service_date": F.DOS,
                   "diagnosis_pointers": [1]}],
        "total_charge_cents": 14500, "status": "CLEAN", "edits": [], "warnings": []}


def unmatched(claim_id: str, n: int = 1) -> dict:
    return {**F.remittance(77), "event_id": f"x835:P:{claim_id}:{n}", "account_id": "",
            "claim_id": claim_id}


def test_a_remittance_before_its_claim_waits_then_posts_with_the_account(collector):  # noqa: F811

    run(feed(T.REMITTANCES_UNMATCHED, [enc(unmatched("CLM-EARLY"), T.REMITTANCES_UNMATCHED)],
             collector, 1))
    [state] = collector.on(T.CLAIM_ACCOUNTS)
    assert (state["claim_id"], state["account_id"], len(state["waiting"])) == ("CLM-EARLY", None, 1)
    assert collector.on(T.REMITTANCES) == []
    key = next(k for name, k, _ in collector.sent if name == T.CLAIM_ACCOUNTS.name)
    assert key == b"CLM-EARLY"

    collector.sent.clear()
    run(feed(T.CLAIMS, [enc(claim("CLM-EARLY"), T.CLAIMS)], collector, 1))
    [index] = collector.on(T.CLAIM_INDEX)  # the claim, re-keyed by its claim id
    assert (index["claim_id"], index["account_id"]) == ("CLM-EARLY", ACCOUNT)
    assert [k for name, k, _ in collector.sent if name == T.CLAIM_INDEX.name] == [b"CLM-EARLY"]
    assert collector.on(T.CLAIM_ACCOUNTS) == []  # the claims partition holds no claim entry
    collector.sent.clear()
    run(feed(T.CLAIM_INDEX, [enc(index, T.CLAIM_INDEX)], collector, 2))
    [released] = collector.on(T.REMITTANCES)
    assert (released["account_id"], released["event_id"]) == (ACCOUNT, "x835:P:CLM-EARLY:1")
    [state] = collector.on(T.CLAIM_ACCOUNTS)
    assert (state["account_id"], state["waiting"]) == (ACCOUNT, [])

    collector.sent.clear()
    run(feed(T.REMITTANCES, [enc(released, T.REMITTANCES)], collector, 1))
    [journal] = collector.on(T.LEDGER_ENTRIES)
    assert journal["account_id"] == ACCOUNT
    assert journal["entries"][0]["entry_id"] == "x835:P:CLM-EARLY:1:paid:1"


def test_a_remittance_for_a_known_claim_is_matched_at_once(collector):  # noqa: F811

    run(feed(T.CLAIMS, [enc(claim("CLM-KNOWN"), T.CLAIMS)], collector, 1))
    [index] = collector.on(T.CLAIM_INDEX)
    run(feed(T.CLAIM_INDEX, [enc(index, T.CLAIM_INDEX)], collector, 2))
    collector.sent.clear()
    run(feed(T.REMITTANCES_UNMATCHED, [enc(unmatched("CLM-KNOWN"), T.REMITTANCES_UNMATCHED)],
             collector, 1))
    [out] = collector.on(T.REMITTANCES)
    assert out["account_id"] == ACCOUNT
    assert collector.on(T.CLAIM_ACCOUNTS) == []  # nothing to remember
    assert CTX.table(S.CLAIM_ACCOUNTS).data[b"CLM-KNOWN"]


def test_bad_records_are_dead_lettered_once_by_each_owner(collector):  # noqa: F811

    no_claim = unmatched(" ")
    run(feed(T.REMITTANCES_UNMATCHED, [b"garbage", enc(no_claim, T.REMITTANCES_UNMATCHED)],
             collector, 2))
    dead = collector.on(T.DEAD_LETTERS)
    assert [(d["stage"], d["error"]) for d in dead] == [
        ("match_remittances", "MALFORMED"), ("match_remittances", "INVALID")]
    collector.sent.clear()
    run(feed(T.CLAIMS, [b"\x00\x00\x00\x00\x06zz"], collector, 1))
    [d] = collector.on(T.DEAD_LETTERS)
    assert (d["stage"], d["source_topic"]) == ("index_claims", "claims")
