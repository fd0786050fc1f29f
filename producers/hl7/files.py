"""Split a file of HL7 v2 messages into messages, remembering where each starts.

A message begins at each MSH segment (MLLP framing, 0x0b ... 0x1c 0x0d, is allowed around it);
segments end in \\r, \\n or \\r\\n, and blank lines between or inside messages are ignored (a file
written with \\r\\r\\n does not cut its messages in two). Batch envelopes (FHS, BHS, BTS, FTS) are
skipped. A UTF-8 byte order mark (at the start of the file, or of a file concatenated into it) is
dropped; UTF-16 files (with their BOM) are read too, and bytes that are not UTF-8 as Windows-1252.
Lines before the first MSH form a message of their own, which the parser rejects, so nothing is
dropped silently.
"""
from __future__ import annotations

from dataclasses import dataclass

ENVELOPE = ("FHS", "BHS", "BTS", "FTS")
BOM = "\ufeff"


@dataclass(frozen=True)
class RawMessage:
    number: int  # 1-based, in file order
    line: int    # line of its first segment
    text: str    # segments joined by \r

    @property
    def payload(self) -> bytes:
        return self.text.encode("utf-8")


def decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def split_messages(data: bytes | str) -> list[RawMessage]:
    text = decode(data) if isinstance(data, bytes) else data
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "").replace("\x1c", "")
    out: list[RawMessage] = []
    current: list[str] = []
    start = 0

    def close() -> None:
        if current:
            out.append(RawMessage(len(out) + 1, start, "\r".join(current)))
            current.clear()

    for n, line in enumerate(text.split("\n"), 1):
        segment = line.strip().strip(BOM + "\x1a").strip()
        if not segment or segment[:3] in ENVELOPE:
            continue
        if segment.startswith("MSH"):
            close()
        if not current:
            start = n
        current.append(segment)
    close()
    return out
