"""Files -> entries: a JSON Bundle gives one entry per Bundle.entry, a single resource gives one,
NDJSON (.ndjson/.jsonl, or JSON with one resource per line) gives one per non-blank line.

Numbers are read as Decimal, so money never passes through a float. An entry that is not JSON or
not a resource keeps its raw bytes and a precise error; the other entries of the file still count.
A Bundle cut short (or broken part-way) keeps the entries before the damage; from there on the
file is one bad entry. Any other malformed JSON file is one bad entry: the whole file.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class BundleContext:
    """What a Bundle says about all its entries: its type, its timestamp (a message's event time
    when the resources carry none) and, for a message, the MessageHeader's event code."""

    type: str | None = None
    timestamp: str | None = None
    event_system: str | None = None
    event_code: str | None = None


@dataclass
class Entry:
    file: str
    where: str  # "entry 3", "line 5", "resource": the position inside the file
    index: int  # entry index / line number / 0; the dead letter's source_offset
    payload: bytes  # the raw entry as JSON bytes, for the dead letter
    raw: dict | None = None  # the resource JSON (numbers as Decimal)
    full_url: str | None = None
    error: str | None = None  # why it cannot be read (then raw is None)
    error_kind: str = "MALFORMED"
    model: object | None = None  # the validated fhir.resources model (set by model.validate)
    bundle: BundleContext | None = None

    @property
    def resource_type(self) -> str:
        return str((self.raw or {}).get("resourceType") or "?")

    @property
    def label(self) -> str:
        rid = (self.raw or {}).get("id")
        what = f" ({self.resource_type}/{rid})" if rid else (f" ({self.resource_type})" if self.raw else "")
        return f"{self.file}: {self.where}{what}"


def _loads(text: str):
    return json.loads(text, parse_float=Decimal)


def _position(exc: json.JSONDecodeError) -> str:
    return f"not JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"


def read_file(path: str | Path) -> list[Entry]:
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name, ndjson=path.suffix.lower() in (".ndjson", ".jsonl"))


def read_bytes(data: bytes, name: str, ndjson: bool = False) -> list[Entry]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [Entry(name, "file", -1, data, error=f"not UTF-8 at byte {exc.start}")]
    if not text.strip():
        return [Entry(name, "file", -1, data, error="empty file")]
    if not ndjson:
        try:
            doc = _loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":  # anything else is a broken (e.g. truncated) JSON file
                return _salvage(text, name, exc) or [Entry(name, "file", -1, data, error=_position(exc))]
            ndjson = True
        else:
            return _document(doc, data, name)
    return _lines(text, name)


def _lines(text: str, name: str) -> list[Entry]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        payload = line.encode()
        where = f"line {number}"
        try:
            doc = _loads(line)
        except json.JSONDecodeError as exc:
            out.append(Entry(name, where, number, payload, error=f"not JSON at column {exc.colno}: {exc.msg}"))
            continue
        out.append(_resource(doc, payload, name, where, number))
    return out


def _document(doc, data: bytes, name: str) -> list[Entry]:
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        entries = doc.get("entry") or []
        if not isinstance(entries, list):
            return [Entry(name, "Bundle.entry", -1, data, error="Bundle.entry is not a list",
                          error_kind="INVALID")]
        return _entries(entries, name, _context(doc, entries))
    return [_resource(doc, data, name, "resource", 0)]


def _context(doc: dict, entries: list) -> BundleContext:
    first = entries[0].get("resource") if entries and isinstance(entries[0], dict) else None
    event = first.get("eventCoding") if isinstance(first, dict) and \
        first.get("resourceType") == "MessageHeader" else None
    event = event if isinstance(event, dict) else {}
    stamp = doc.get("timestamp")
    return BundleContext(doc.get("type") if isinstance(doc.get("type"), str) else None,
                         stamp if isinstance(stamp, str) else None,
                         event.get("system"), event.get("code"))


def _entries(items: list, name: str, context: BundleContext | None = None) -> list[Entry]:
    out = []
    for i, item in enumerate(items):
        payload = json.dumps(item, default=str, separators=(",", ":")).encode()
        where = f"entry {i}"
        if not isinstance(item, dict) or not isinstance(item.get("resource"), dict):
            out.append(Entry(name, where, i, payload, error="entry has no resource", error_kind="INVALID"))
            continue
        entry = _resource(item["resource"], payload, name, where, i)
        entry.full_url = item.get("fullUrl")
        entry.bundle = context
        out.append(entry)
    return out


def _entry_array(text: str) -> int | None:
    """Where the items of a top-level Bundle's "entry" array start, found without parsing the
    (broken) whole: strings are skipped, depth is counted, keys are read at depth 1."""
    depth, i, key, value_next, bundle = 0, 0, None, False, False
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if depth == 1:
                if value_next:
                    bundle = bundle or (key == "resourceType" and text[i + 1:j] == "Bundle")
                    value_next = False
                else:
                    key = text[i + 1:j]
            i = j + 1
            continue
        if depth == 1 and c == ":":
            value_next = True
        elif c in "{[":
            if depth == 1 and c == "[" and value_next and key == "entry":
                return i + 1 if bundle else None
            value_next = value_next and depth != 1
            depth += 1
        elif c in "}]":
            depth -= 1
        i += 1
    return None


def _salvage(text: str, name: str, exc: json.JSONDecodeError) -> list[Entry] | None:
    """The complete entries of a Bundle cut short, then one bad entry for the rest."""
    start = _entry_array(text)
    if start is None:
        return None
    decoder = json.JSONDecoder(parse_float=Decimal)
    items, pos = [], start
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        items.append(item)
    if not items:
        return None
    out, n = _entries(items, name, _salvaged_context(text, start)), len(items)
    if pos < len(text) and text[pos] != "]":  # cut inside entry n: the rest is the bad entry
        out.append(Entry(name, f"entry {n}", n, text[pos:].encode(),
                         error=f"{_position(exc)}; entries 0-{n - 1} were read, from entry {n} on "
                               "the file is this dead letter"))
    else:  # every entry is whole; the Bundle breaks after them
        out.append(Entry(name, "file", -1, text.encode(),
                         error=f"{_position(exc)} (after its {n} entries, which were read)"))
    return out


def _salvaged_context(text: str, start: int) -> BundleContext:
    """The Bundle's type and timestamp when they come before its entries (as they usually do)."""
    head = text[:start]
    found = {k: re.search(rf'"{k}"\s*:\s*"([^"]*)"', head) for k in ("type", "timestamp")}
    return BundleContext(*(m.group(1) if m else None for m in found.values()))


def _resource(doc, payload: bytes, name: str, where: str, index: int) -> Entry:
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        return Entry(name, where, index, payload, error="not a FHIR resource (no resourceType)",
                     error_kind="INVALID")
    return Entry(name, where, index, payload, raw=doc)
