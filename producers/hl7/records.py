"""What the HL7 adapter sends: VisitEvents on `visit-events`, and a DeadLetter (stage
`hl7_adapter`, the raw message as payload) for each message it refuses."""
from __future__ import annotations

import hashlib
import re

from producers.hl7.files import RawMessage
from producers.hl7.parse import MessageError
from schemas import deadletter
from schemas import topics as T

STAGE = "hl7_adapter"


def dead_letter(payload: bytes, err: MessageError, where: str) -> dict:
    """Its id is the message's (facility + control id, else a digest of the bytes), so sending the
    same bad message twice gives one row. Partition and offset are -1: it never reached Kafka."""
    ident = (f"{err.facility}:{err.control_id}" if err.control_id
             else "sha256:" + hashlib.sha256(payload).hexdigest()[:32])
    return deadletter.dead_letter(f"hl7v2:{ident}:{STAGE}", T.VISIT_EVENTS.name, STAGE, err.error,
                                  f"{where}: {err.segment}: {err.reason} (ACK {err.ack})",
                                  payload=payload)


def line_of(raw: RawMessage, segment: str) -> int:
    """File line of the segment an error names ("PID-18", "FT1[2]-11"), else the message's first."""
    m = re.match(r"([A-Z0-9]{3})(?:\[(\d+)\])?", segment)
    if m:
        wanted, seen = int(m.group(2) or 1), 0
        for i, seg in enumerate(raw.text.split("\r")):
            if seg[:3] == m.group(1):
                seen += 1
                if seen == wanted:
                    return raw.line + i
    return raw.line
