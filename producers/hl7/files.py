"""Split a file of HL7 v2 messages into messages, remembering where each starts.

Messages are separated by MSH segments, blank lines or MLLP framing (0x0b ... 0x1c 0x0d); segments
end in \\r, \\n or \\r\\n. Batch envelopes (FHS, BHS, BTS, FTS) are skipped. Lines before the first
MSH form a message of their own, which the parser rejects, so nothing is dropped silently.
"""
from __future__ import annotations

from dataclasses import dataclass

ENVELOPE = ("FHS", "BHS", "BTS", "FTS")


@dataclass(frozen=True)
class RawMessage:
    number: int  # 1-based, in file order
    line: int    # line of its first segment
    text: str    # segments joined by \r

    @property
    def payload(self) -> bytes:
        return self.text.encode("utf-8")


def split_messages(data: bytes | str) -> list[RawMessage]:
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "").replace("\x1c", "")
    out: list[RawMessage] = []
    current: list[str] = []
    start = 0

    def close() -> None:
        if current:
            out.append(RawMessage(len(out) + 1, start, "\r".join(current)))
            current.clear()

    for n, line in enumerate(text.split("\n"), 1):
        segment = line.strip()
        if not segment:
            close()
            continue
        if segment[:3] in ENVELOPE:
            continue
        if segment.startswith("MSH"):
            close()
        if not current:
            start = n
        current.append(segment)
    close()
    return out
