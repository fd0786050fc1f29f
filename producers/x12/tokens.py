"""X12 tokens and envelopes: delimiters from the ISA, segments, and ISA/GS/ST envelope checks.

The ISA fixes the delimiters: the element separator is its fourth character, ISA11 the repetition
separator, ISA16 the component separator, and the character after ISA16 ends every segment (line
breaks around segments are tolerated). `read` splits a file into its transaction sets (ST..SE),
each with the errors found in it; envelope errors (GS/GE, ISA/IEA counts and control numbers, a file
that ends early) are reported apart, so the good transactions of a damaged file still go through.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
EARLIEST = date(1900, 1, 1)


class X12Error(ValueError):
    """A problem at one segment of one file: `file: segment N (ID): reason`."""

    def __init__(self, file: str, number: int, segment_id: str, reason: str):
        super().__init__(f"{file}: segment {number} ({segment_id}): {reason}")
        self.file, self.number, self.segment_id, self.reason = file, number, segment_id, reason


@dataclass(frozen=True)
class Delimiters:
    element: str
    repetition: str
    component: str
    segment: str


@dataclass(frozen=True)
class Segment:
    id: str
    elements: tuple[str, ...]  # elements[0] is the id, so elements[1] is XX01
    number: int  # 1-based position in the file
    raw: str
    delimiters: Delimiters

    def el(self, i: int) -> str:
        return self.elements[i] if i < len(self.elements) else ""

    def components(self, i: int) -> list[str]:
        return self.el(i).split(self.delimiters.component)


@dataclass
class Transaction:
    file: str
    isa: Segment
    gs: Segment | None
    segments: list[Segment] = field(default_factory=list)  # ST .. SE (or as far as the file went)
    errors: list[X12Error] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a reader passed over on purpose, counted

    @property
    def set_id(self) -> str:
        return self.segments[0].el(1)

    @property
    def control(self) -> str:
        return self.segments[0].el(2)

    @property
    def version(self) -> str:
        return self.segments[0].el(3) or (self.gs.el(8) if self.gs else "")

    def error(self, seg: Segment, reason: str) -> X12Error:
        return X12Error(self.file, seg.number, seg.id, reason)

    def payload(self) -> bytes:
        """ISA, GS and the transaction's own segments: enough to read the delimiters and replay it."""
        term = self.isa.delimiters.segment
        segs = [self.isa, *([self.gs] if self.gs else []), *self.segments]
        return "".join(s.raw + term for s in segs).encode()


def amount_cents(tx: Transaction, seg: Segment, i: int, required: bool = True) -> int | None:
    """Element i as integer cents (X12 type R, parsed as Decimal); errors name the segment."""
    text = seg.el(i).strip()
    if not text:
        if required:
            raise tx.error(seg, f"{seg.id}{i:02d} (amount) is missing")
        return None
    if not _AMOUNT.match(text):
        raise tx.error(seg, f"{seg.id}{i:02d} {text!r} is not a number")
    try:
        cents = Decimal(text) * 100
    except InvalidOperation as exc:  # pragma: no cover - the pattern already refused it
        raise tx.error(seg, f"{seg.id}{i:02d} {text!r} is not a number") from exc
    if cents != cents.to_integral_value():
        raise tx.error(seg, f"{seg.id}{i:02d} {text!r} has fractions of a cent")
    return int(cents)


def quantity(tx: Transaction, seg: Segment, i: int) -> Decimal | None:
    """Element i as a Decimal count (X12 type R: units may be fractional), None when empty."""
    text = seg.el(i).strip()
    if not text:
        return None
    if not _AMOUNT.match(text):
        raise tx.error(seg, f"{seg.id}{i:02d} {text!r} is not a number")
    return Decimal(text)


def ccyymmdd(tx: Transaction, seg: Segment, text: str) -> date:
    """A CCYYMMDD date; one before 1900 (`10010101`) is a placeholder, not a date anything happened."""
    try:
        d = datetime.strptime(text, "%Y%m%d").date()
    except ValueError as exc:
        raise tx.error(seg, f"{text!r} is not a CCYYMMDD date") from exc
    if d < EARLIEST:
        raise tx.error(seg, f"{text!r} is not a possible date (year {d.year}, before "
                            f"{EARLIEST.year})")
    return d


def line_number(ref: str, otherwise: int) -> int:
    """The claim line a REF*6R line item control number names. The id is the hospital's opaque
    string: it is the line number only when it is exactly one (what the pipeline's own 837 sends);
    else `otherwise`. The 835 and 837 readers share it, so a payer's echo names the line sent."""
    return int(ref) if ref.isdigit() and str(int(ref)) == ref and int(ref) > 0 else otherwise


def at_midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def delimiters(text: str, file: str) -> Delimiters:
    start = text.find("ISA")
    if start < 0 or text[:start].strip():
        raise X12Error(file, 1, text[:3] or "-", "the file does not start with an ISA segment")
    isa = text[start:]
    if len(isa) < 106:
        raise X12Error(file, 1, "ISA", f"ISA is {len(isa)} characters; a complete ISA has 106 "
                                        "(truncated file?)")
    element = isa[3]
    # ISA elements have fixed widths, but some senders pad wrongly: count separators instead.
    parts = isa.split(element, 16)
    if len(parts) < 17:
        raise X12Error(file, 1, "ISA", "ISA has fewer than 16 elements")
    last = parts[16]
    if len(last) < 2:
        raise X12Error(file, 1, "ISA", "no segment terminator after ISA16")
    component, segment = last[0], last[1]
    repetition = parts[11]
    if len(repetition) != 1 or repetition.isalnum():
        repetition = ""  # 4010-style ISA11 (a standards id, "U"), no repetition separator
    return Delimiters(element, repetition, component, segment)


def segments(text: str, file: str) -> tuple[Delimiters, list[Segment]]:
    """Every segment of the file; each interchange is split with the delimiters of its own ISA."""
    text = text.lstrip("\ufeff")
    first = d = delimiters(text, file)
    out: list[Segment] = []
    pos, end = text.find("ISA"), len(text)
    while pos < end:
        stop = text.find(d.segment, pos)
        stop = end if stop < 0 else stop
        raw = text[pos:stop].strip("\r\n").lstrip()
        pos = stop + 1
        if not raw:
            continue
        elements = tuple(raw.split(d.element))
        out.append(Segment(elements[0].strip(), elements, len(out) + 1, raw, d))
        if out[-1].id == "IEA":  # the next interchange may use other delimiters
            following = text.find("ISA", pos)
            if following >= 0 and not text[pos:following].strip():
                try:
                    d = delimiters(text[following:], file)
                except X12Error:
                    pass  # a broken ISA: split on as before; the envelope walk reports it
    return first, out


class SegmentReader:
    """Walks one transaction's segments between ST and SE, handing each to its `_<id>` method
    (`_clp`, `_svc`...) when the reader has one; `finish` returns the records."""

    tx: Transaction

    def read(self) -> list[dict]:
        for seg in self.tx.segments[1:-1]:
            handler = getattr(self, f"_{seg.id.lower()}", None)
            if handler is not None:
                handler(seg)
        return self.finish()

    def finish(self) -> list[dict]:
        raise NotImplementedError


@dataclass
class Parsed:
    transactions: list[Transaction]
    errors: list[X12Error]  # envelope errors, not tied to one transaction
    payload: bytes = b""  # the whole file, for envelope dead letters


def read(data: bytes | str, file: str) -> Parsed:
    """Split a file into transaction sets and check every envelope."""
    text = data if isinstance(data, str) else _text(data)
    payload = text.encode()
    try:
        _, segs = segments(text, file)
    except X12Error as exc:
        return Parsed([], [exc], payload)
    return _Walker(file, segs).walk(payload)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class _Walker:
    def __init__(self, file: str, segs: list[Segment]):
        self.file, self.segs = file, segs
        self.txs: list[Transaction] = []
        self.errors: list[X12Error] = []

    def err(self, seg: Segment, reason: str) -> None:
        self.errors.append(X12Error(self.file, seg.number, seg.id, reason))

    def walk(self, payload: bytes) -> Parsed:
        isa = gs = None
        tx: Transaction | None = None
        groups = sts = 0
        for seg in self.segs:
            if tx is not None and seg.id in ("ST", "GE", "IEA", "GS", "ISA"):
                tx.errors.append(tx.error(seg, f"transaction {tx.set_id} {tx.control} has no SE "
                                               f"before this {seg.id} (truncated transaction)"))
                self.txs.append(tx)
                tx = None
            if seg.id == "ISA":
                if isa is not None:
                    self.err(seg, "ISA before the IEA of the previous interchange")
                isa, gs, groups = seg, None, 0
                if len(seg.elements) != 17:
                    self.err(seg, f"ISA has {len(seg.elements) - 1} elements, not 16")
            elif isa is None:
                self.err(seg, "segment outside an interchange (no ISA before it)")
            elif seg.id == "GS":
                if gs is not None:
                    self.err(seg, "GS before the GE of the previous group")
                gs, sts, groups = seg, 0, groups + 1
            elif seg.id == "ST":
                if gs is None:
                    self.err(seg, "ST outside a functional group (no GS)")
                sts += 1
                tx = Transaction(self.file, isa, gs, [seg])
            elif tx is not None:
                tx.segments.append(seg)
                if seg.id == "SE":
                    self._close(tx, seg)
                    self.txs.append(tx)
                    tx = None
            elif seg.id == "GE":
                if gs is None:
                    self.err(seg, "GE without a GS")
                else:
                    self._check(seg, 1, sts, "transaction sets in the group")
                    self._same(seg, 2, gs, 6, "group control number")
                gs = None
            elif seg.id == "IEA":
                if gs is not None:
                    self.err(seg, f"IEA before the GE of group {gs.el(6)} (truncated group)")
                self._check(seg, 1, groups, "functional groups in the interchange")
                self._same(seg, 2, isa, 13, "interchange control number")
                isa = gs = None
            else:
                self.err(seg, f"{seg.id} outside a transaction set (no ST before it)")
        last = self.segs[-1] if self.segs else None
        if tx is not None:
            tx.errors.append(tx.error(last, f"the file ends inside transaction {tx.set_id} "
                                            f"{tx.control}: no SE (truncated file)"))
            self.txs.append(tx)
        if gs is not None and last is not None:
            self.err(last, f"the file ends inside group {gs.el(6)}: no GE (truncated file)")
        if isa is not None and last is not None:
            self.err(last, f"the file ends inside interchange {isa.el(13)}: no IEA (truncated file)")
        return Parsed(self.txs, self.errors, payload)

    def _check(self, seg: Segment, i: int, actual: int, what: str) -> None:
        if seg.el(i).strip() != str(actual):
            self.err(seg, f"{seg.id}{i:02d} says {seg.el(i)!r} {what}; there are {actual}")

    def _same(self, seg: Segment, i: int, opener: Segment, j: int, what: str) -> None:
        if seg.el(i).strip() != opener.el(j).strip():
            self.err(seg, f"{what} {seg.el(i)!r} does not match {opener.id}{j:02d} "
                          f"{opener.el(j)!r}")

    def _close(self, tx: Transaction, se: Segment) -> None:
        count = len(tx.segments)
        if se.el(1).strip() != str(count):
            tx.errors.append(tx.error(se, f"SE01 says {se.el(1)!r} segments; the transaction has "
                                          f"{count} (ST to SE)"))
        if se.el(2).strip() != tx.control.strip():
            tx.errors.append(tx.error(se, f"transaction control number {se.el(2)!r} does not "
                                          f"match ST02 {tx.control!r}"))
