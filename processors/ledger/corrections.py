"""Charges of a corrected or cancelled encounter: post only the difference.

An encounter re-sent with a new event id (a corrected encounter: a line added, removed or changed)
or with `cancelled` set would post all its charges again through `rules.entries_for_encounter`.
The `encounter-charges` entry remembers what the ledger holds per line, so a re-send posts, for
each line that changed, a CHARGE taking the old amount off (`uncharge:<line>`) and one putting the
new amount on (`charge:<line>`); a cancel takes every line off. The first version posts exactly
what it always posted (same entry ids). A redelivered event posts the same entries again (the
sink applies each id once), the first version too when it comes after a newer one.
Pure: standard library, schemas and the ledger rules.
"""
from __future__ import annotations

from processors import state
from processors.ledger.rules import SELF_PAY, _entry, entries_for_encounter


def charged_lines(enc: dict) -> list[dict]:
    if enc.get("cancelled"):
        return []
    self_pay = enc["plan_type"] == SELF_PAY
    return [{"line": ch["line"], "amount_cents": ch["units"] * ch["unit_price_cents"],
             "self_pay": self_pay, "payer_id": enc["payer_id"]}
            for ch in enc["charges"] if ch["units"] * ch["unit_price_cents"]]


def _delta(enc: dict, before: list[dict], after: list[dict]) -> list[dict]:
    old = {ln["line"]: ln for ln in before}
    new = {ln["line"]: ln for ln in after}
    entries = []
    for line in sorted(old.keys() | new.keys()):
        was, now = old.get(line), new.get(line)
        if was == now:
            continue
        if was is not None:
            amount = -was["amount_cents"]
            entries.append(_entry(enc, f"uncharge:{line}", "CHARGE", 0 if was["self_pay"] else amount,
                                  amount if was["self_pay"] else 0, enc["encounter_id"],
                                  was["payer_id"], "CORRECTED"))
        if now is not None:
            amount = now["amount_cents"]
            entries.append(_entry(enc, f"charge:{line}", "CHARGE", 0 if now["self_pay"] else amount,
                                  amount if now["self_pay"] else 0, enc["encounter_id"],
                                  now["payer_id"], "CORRECTED"))
    return entries


def entries_for_encounter_version(enc: dict, store: state.Store) -> list[dict]:
    """The CHARGE entries `enc` posts, given what earlier versions of its encounter posted."""
    entry = store.get(enc["encounter_id"])
    lines = charged_lines(enc)
    if entry is None:
        store.put({"encounter_id": enc["encounter_id"], "account_id": enc["account_id"],
                   "event_id": enc["event_id"], "applied": [enc["event_id"]], "lines": lines,
                   "previous": []})
        return [] if enc.get("cancelled") else entries_for_encounter(enc)
    if enc["event_id"] == entry["event_id"]:  # a redelivery of the last version
        if len(entry["applied"]) == 1:
            return [] if enc.get("cancelled") else entries_for_encounter(enc)
        return _delta(enc, entry["previous"], entry["lines"])
    if enc["event_id"] in entry["applied"]:
        # An older version redelivered after a newer one. Its output may have been lost in a crash
        # after the newer version's state was written (a SIGKILL between partition batches): the
        # first version posts its charges again under the same ids (the sink applies each id once),
        # so they cannot go missing. A middle version's delta is not kept: it posts nothing.
        if enc["event_id"] == entry["applied"][0] and not enc.get("cancelled"):
            return entries_for_encounter(enc)
        return []
    store.put({**entry, "event_id": enc["event_id"],
               "applied": [*entry["applied"], enc["event_id"]][-20:],
               "lines": lines, "previous": entry["lines"]})
    return _delta(enc, entry["lines"], lines)
