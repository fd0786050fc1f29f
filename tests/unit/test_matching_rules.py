"""Matching remittances to accounts by claim id: known claims, waiting remittances, redelivery."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from processors.matching import rules
from processors.matching.rules import NotMatchable, on_claim, on_unmatched
from processors.outcome import Outcome
from processors.state import CLAIM_ACCOUNTS
from schemas import codec
from schemas import topics as T
from tests import factories as F
from tests.support.stores import DictStore


def unmatched(n: int = 1, claim_id: str = "CLM-E0000001", event: str | None = None) -> dict:
    rec = {**F.remittance(n), "account_id": "", "claim_id": claim_id,
           "event_id": event or f"x835:P:EFT{n}:1", "payer_name": "ACME",
           "check_amount_cents": 9000, "provider_adjustments": []}
    # as the stage receives it: decoded from the topic, optional fields at their defaults
    return codec.decode_for(T.REMITTANCES_UNMATCHED, codec.encode("RemittanceReceived", rec))


def claim(account_id: str, claim_id: str = "CLM-E0000001") -> dict:
    return {"claim_id": claim_id, "account_id": account_id}


ACCOUNT = F.remittance(1)["account_id"]


def test_a_remittance_for_a_known_claim_leaves_at_once_with_its_account():
    store = DictStore(CLAIM_ACCOUNTS)
    assert on_claim(claim(ACCOUNT), store).label == "indexed"
    m = on_unmatched(unmatched(), store)
    [(topic, rec)] = m.records
    assert (m.label, topic, rec["account_id"]) == ("matched", T.REMITTANCES, ACCOUNT)
    assert rec["event_id"] == "x835:P:EFT1:1"  # kept: the ledger's entry ids derive from it


def test_a_remittance_before_its_claim_waits_and_is_released_when_the_claim_is_built():
    store = DictStore(CLAIM_ACCOUNTS)
    first, second = unmatched(1), unmatched(2, event="x835:P:EFT2:1")
    assert on_unmatched(first, store).label == "waiting"
    assert on_unmatched(second, store).label == "waiting"
    assert len(store.get("CLM-E0000001")["waiting"]) == 2
    m = on_claim(claim(ACCOUNT), store)
    assert m.label == "released"
    assert [(t, r["event_id"], r["account_id"]) for t, r in m.records] == [
        (T.REMITTANCES, "x835:P:EFT1:1", ACCOUNT), (T.REMITTANCES, "x835:P:EFT2:1", ACCOUNT)]
    assert store.get("CLM-E0000001") == {"claim_id": "CLM-E0000001", "account_id": ACCOUNT,
                                         "waiting": []}


def test_a_redelivered_waiting_remittance_is_kept_once():
    store = DictStore(CLAIM_ACCOUNTS)
    on_unmatched(unmatched(), store)
    assert on_unmatched(unmatched(), store).label == "duplicate"
    assert len(store.get("CLM-E0000001")["waiting"]) == 1


def test_redelivery_after_release_repeats_the_same_record_and_nothing_else():
    store = DictStore(CLAIM_ACCOUNTS)
    on_unmatched(unmatched(), store)
    [(_, released)] = on_claim(claim(ACCOUNT), store).records
    assert on_claim(claim(ACCOUNT), store) == Outcome([], "known")
    [(_, again)] = on_unmatched(unmatched(), store).records
    assert again == released


def test_other_claims_do_not_release_a_remittance():
    store = DictStore(CLAIM_ACCOUNTS)
    on_unmatched(unmatched(), store)
    assert on_claim(claim(ACCOUNT, "CLM-E0000002"), store).records == []
    assert store.get("CLM-E0000001")["account_id"] is None


def test_a_claim_id_claimed_by_another_account_is_refused():
    store = DictStore(CLAIM_ACCOUNTS)
    on_claim(claim(ACCOUNT), store)
    with pytest.raises(NotMatchable, match="another account"):
        on_claim(claim(F.remittance(2)["account_id"]), store)


def test_a_remittance_without_a_claim_id_is_refused():
    with pytest.raises(NotMatchable, match="no claim id"):
        on_unmatched(unmatched(claim_id=" "), DictStore(CLAIM_ACCOUNTS))


def test_a_remittance_that_already_knows_its_account_passes_through():
    rec = {**unmatched(), "account_id": ACCOUNT}
    [(topic, out)] = on_unmatched(rec, DictStore(CLAIM_ACCOUNTS)).records
    assert topic is T.REMITTANCES and out == rec


def test_matching_rules_import_only_stdlib_and_schemas():
    tree = ast.parse(Path(rules.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom) and n.module}
    assert names <= {"__future__", "dataclasses", "typing", "schemas", "processors"}
    internal = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                and n.module and n.module.startswith("processors")}
    assert internal <= {"processors", "processors.outcome"}  # stores and the outcome, no faust
