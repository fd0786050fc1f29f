"""Code encounters.

Consumes: encounters        (key: account_id, value: EncounterReceived)
Produces: encounters-coded  (EncounterCoded) | coding-review (CodingReviewRequested) | dead-letters
Rule:     processors.coding.rules.validate_encounter, code_encounter
Owns the dead letters of `encounters`.
"""
from __future__ import annotations

from processors import app as A
from processors.stage import Rejected, Stage, record
from schemas import topics as T

OUT = {"coded": T.ENCOUNTERS_CODED, "review": T.CODING_REVIEW}


def handle(enc: dict):
    from processors.coding.rules import code_encounter, validate_encounter

    coder, charge_master = A.reference()
    problems = validate_encounter(enc, charge_master, coder)
    if problems:
        raise Rejected("; ".join(problems))
    kind, rec = code_encounter(enc, charge_master, coder, A.SETTINGS.coding_threshold)
    return [record(OUT[kind], rec)]


CODE_ENCOUNTERS = Stage("code_encounters", T.ENCOUNTERS, handle, owner=True)
