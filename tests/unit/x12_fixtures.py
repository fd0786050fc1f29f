"""X12 text for the tests, written from the 5010 implementation guides (no third-party samples).

`interchange` wraps transaction bodies (lists of segments as element lists, ST/SE added here) in
ISA/GS/GE/IEA envelopes with correct counts, and writes them with any delimiters: element
separator, repetition separator (ISA11), component separator (ISA16), segment terminator and what
goes between segments (nothing, a newline, CRLF, trailing blanks).
"""
from __future__ import annotations

from collections.abc import Sequence

Seg = Sequence[object]


def _join(seg: Seg, element: str, component: str) -> str:
    out = []
    for v in seg:
        out.append(component.join(v) if isinstance(v, tuple) else "" if v is None else str(v))
    while len(out) > 1 and out[-1] == "":
        out.pop()
    return element.join(out)


def transaction(set_id: str, control: str, version: str, body: list[Seg]) -> list[Seg]:
    st: list[Seg] = [("ST", set_id, control, version), *body]
    return [*st, ("SE", len(st) + 1, control)]


def group(functional_id: str, control: int, version: str, transactions: list[list[Seg]],
          on: str = "20260301", sender: str = "SENDER", receiver: str = "RECEIVER") -> list[Seg]:
    segs: list[Seg] = [("GS", functional_id, sender, receiver, on, "1200", control, "X", version)]
    for tx in transactions:
        segs += tx
    return [*segs, ("GE", len(transactions), control)]


def interchange(groups: list[list[Seg]], control: int = 1, *, element: str = "*",
                component: str = ":", repetition: str = "^", terminator: str = "~",
                between: str = "", sender: str = "PAYER", receiver: str = "HOSPITAL") -> str:
    isa = element.join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender.ljust(15), "ZZ",
                        receiver.ljust(15), "260301", "1200", repetition, "00501",
                        f"{control:09d}", "0", "P", component])
    lines = [isa]
    for g in groups:
        lines += [_join(s, element, component) for s in g]
    lines.append(_join(("IEA", len(groups), f"{control:09d}"), element, component))
    return "".join(line + terminator + between for line in lines)


def remit_835(control: str = "0001", *, claims: list[list[Seg]] | None = None,
              check: str | None = None, plb: list[Seg] = ()) -> list[Seg]:
    """An 835 (005010X221A1): BPR, TRN, payer and payee, then `claims` (each CLP.. segments)."""
    claims = claims if claims is not None else [claim_a()]
    body: list[Seg] = [
        ("BPR", "I", check or "130.5", "C", "ACH", "CCP", "01", "999999999", "DA", "123456",
         "1512345678", "", "01", "999988880", "DA", "98765", "20260301"),
        ("TRN", "1", f"EFT{control}", "1512345678"), ("DTM", "405", "20260301"),
        ("N1", "PR", "ACME HEALTH PLAN", "XV", "COMM-ACME"),
        ("N1", "PE", "GENERAL HOSPITAL", "XX", "1234567893")]
    for n, c in enumerate(claims, 1):
        body += [("LX", n), *c]
    return transaction("835", control, "005010X221A1", [*body, *plb])


def claim_a() -> list[Seg]:
    """Claim 4000776-1: two lines; the second denied, its units changed by the payer (SVC07)."""
    return [
        ("CLP", "4000776-1", "1", "225", "130.5", "0", "MC", "PCN-77", "13", "1"),
        ("NM1", "QC", "1", "DOE", "JANE"),
        ("MIA", "3", "", "", "125.75", "MA01"),
        ("MOA", "", "", "MA15"),
        ("DTM", "232", "20260210"), ("DTM", "233", "20260212"),
        ("AMT", "AU", "150.5"),
        ("SVC", ("HC", "V2020", "RB"), "150", "130.5", "0450", "1.5", ("HC", "V2025"), "2"),
        ("DTM", "472", "20260210"),
        ("CAS", "CO", "45", "19.5"),
        ("REF", "6R", "LN-0001"),
        ("AMT", "B6", "130.5"),
        ("SVC", ("HC", "99213", "25"), "75", "0", "", "0", "", "1"),
        ("CAS", "CO", "50", "55", "", "97", "20"),
        ("REF", "6R", "2"),
        ("LQ", "HE", "N115"),
    ]


def response_277(claims: list[list], **kw) -> str:
    """A 277 answering a 276: source, receiver, provider, then one subscriber (HL 22) per claim."""
    body = [("BHT", "0010", "08", "REQ-1", "20260301", "1200", "DG"),
            ("HL", 1, "", 20, 1), ("NM1", "PR", 2, "ACME HEALTH PLAN", "", "", "", "", "PI", "ACME"),
            ("HL", 2, 1, 21, 1), ("NM1", "41", 2, "GENERAL HOSPITAL", "", "", "", "", "46", "H1"),
            ("HL", 3, 2, 19, 1), ("NM1", "1P", 2, "GENERAL HOSPITAL", "", "", "", "", "XX",
                                  "1234567893")]
    for n, c in enumerate(claims):
        body += [("HL", 4 + n, 3, 22, 0), ("NM1", "IL", 1, "DOE", "JANE", "", "", "", "MI", "M1"),
                 *c]
    tx = transaction("277", "0001", "005010X212", body)
    return interchange([group("HN", 1, "005010X212", [tx])], **kw)


def ack_999(sets: list[list], ak9: tuple, *, answered_group: str = "17",
            answered_version: str = "005010X222A1", on: str = "20260301", gs_sender: str = "SENDER",
            gs_receiver: str = "RECEIVER", **kw) -> str:
    """A 999 answering the 837 group `answered_group` (AK1): `sets` are AK2..IK5 loops."""
    body = [("AK1", "HC", answered_group, answered_version), *[s for one in sets for s in one], ak9]
    tx = transaction("999", "0001", "005010X231A1", body)
    return interchange([group("FA", 1, "005010X231A1", [tx], on, gs_sender, gs_receiver)], **kw)
