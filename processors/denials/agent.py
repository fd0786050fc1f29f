"""Flag denials.

Consumes: remittances  (key: account_id, value: RemittanceReceived)
Produces: denials      (DenialFlagged, one per denied adjustment)
Rule:     processors.denials.rules.flag_denials
The ledger stage owns the dead letters of `remittances`; this stage skips what it rejects.
"""
from __future__ import annotations

from processors.stage import Rejected, Stage, record
from schemas import topics as T


def handle(remit: dict):
    from processors.denials.rules import flag_denials
    from processors.ledger.rules import validate_remittance

    if validate_remittance(remit):
        raise Rejected("remittance rejected by ledger validation", owner=False)
    return [record(T.DENIALS, d) for d in flag_denials(remit)]


FLAG_DENIALS = Stage("flag_denials", T.REMITTANCES, handle, owner=False)
