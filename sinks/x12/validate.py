"""Validate X12 text with pyx12 (BSD): the guide's map, its code lists, envelope counts.

`validate(text)` returns every error pyx12 reports (interchange, group, transaction, segment and
element level) as readable strings; an empty list means pyx12 accepts the file. The 999 pyx12
builds is returned too, for callers that want to keep it beside the file.
"""
from __future__ import annotations

import functools
import io
import json
import logging
import threading
from dataclasses import dataclass

import pyx12.errors
import pyx12.map_if
import pyx12.params
import pyx12.x12n_document

_load_map_file = pyx12.map_if.load_map_file
_LOCK = threading.Lock()


@functools.cache
def _map(map_file: str, map_path: str | None):
    """pyx12 reads and builds a guide's map (a large XML file, ~0.3 s) on every document; a map is
    not changed by a walk (the counts live in the walker), so each is built once per process, with
    the default parameters validate() always passes."""
    return _load_map_file(map_file, pyx12.params.params(), map_path)


def _cached_map_file(map_file: str, param, map_path: str | None = None):
    return _map(map_file, map_path)


@dataclass(frozen=True)
class Validation:
    ok: bool
    errors: list[str]
    ack_999: str

    def __bool__(self) -> bool:
        return self.ok


def _errors(doc: dict) -> list[str]:
    found = []

    def add(level: str, where, errs) -> None:
        for e in errs:
            value = f" ({e['err_val']})" if e.get("err_val") else ""
            found.append(f"{level} {where}: {e['err_cde']} {e['err_str']}{value}")

    for isa in doc.get("interchanges", []):
        add("ISA", isa.get("cur_line"), isa["errors"])
        for gs in isa.get("groups", []):
            add("GS", gs.get("gs_control_num"), gs["errors"])
            for st in gs.get("transactions", []):
                add("ST", st.get("trn_set_control_num"), st["errors"])
                for seg in st.get("segments", []):
                    where = f"{seg['seg_id']} #{seg['seg_count']} line {seg['cur_line']}"
                    add("segment", where, seg["errors"])
                    for ele in seg.get("elements", []):
                        add("element", f"{where} {seg['seg_id']}{ele['ele_pos']:02d}", ele["errors"])
    return found


def validate(text: str) -> Validation:
    """pyx12's verdict on one X12 document (any transaction pyx12 has a map for)."""
    param = pyx12.params.params()
    ack, report = io.StringIO(), io.StringIO()
    pyx12_log = logging.getLogger("pyx12")
    level = pyx12_log.level
    pyx12_log.setLevel(logging.CRITICAL)  # pyx12 logs what it reports; the report is enough
    try:
        with _LOCK:  # x12n_document looks the loader up on pyx12.map_if at each call
            pyx12.map_if.load_map_file = _cached_map_file
            try:
                ok = pyx12.x12n_document.x12n_document(param, io.StringIO(text), ack, None,
                                                       fd_json=report)
            finally:
                pyx12.map_if.load_map_file = _load_map_file
    except pyx12.errors.EngineError as exc:  # e.g. no map for the GS08 version
        return Validation(False, [f"pyx12: {exc}"], "")
    finally:
        pyx12_log.setLevel(level)
    errors = _errors(json.loads(report.getvalue() or "{}"))
    return Validation(bool(ok) and not errors, errors, ack.getvalue())
