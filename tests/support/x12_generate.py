"""Write small, valid X12 835 and 277CA files for synthetic claims (tests, demos).

Input dicts use the pipeline's own shapes (RemittanceReceived-like claim payments, statuses as
(category, code, entity)); amounts are integer cents. Envelopes carry correct counts and control
numbers, so `producers.x12.tokens.read` accepts the output unchanged.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from producers.x12.ack277 import is_accepted

E, C, TERM = "*", ":", "~"


def money(cents: int) -> str:
    """Cents as an X12 decimal: 14500 -> '145', 9050 -> '90.5', -1234 -> '-12.34'."""
    text = format(Decimal(cents) / 100, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _seg(*elements: object) -> str:
    out = ["" if v is None else str(v) for v in elements]
    while len(out) > 1 and out[-1] == "":
        out.pop()
    return E.join(out)


def _d8(d: date) -> str:
    return d.strftime("%Y%m%d")


def _envelope(functional_id: str, version: str, body: list[str], set_id: str, control: int,
              on: date, sender: str, receiver: str) -> str:
    st = [_seg("ST", set_id, f"{control:04d}", *([version] if set_id == "277" else [])), *body]
    st.append(_seg("SE", len(st) + 1, f"{control:04d}"))
    isa = E.join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender.ljust(15), "ZZ",
                  receiver.ljust(15), on.strftime("%y%m%d"), "1200", "^", "00501",
                  f"{control:09d}", "0", "T", C])
    segs = [isa, _seg("GS", functional_id, sender, receiver, _d8(on), "1200", control, "X", version),
            *st, _seg("GE", 1, control), _seg("IEA", 1, f"{control:09d}")]
    return TERM.join(segs) + TERM + "\n"


def _cas(adjustments: Iterable[dict]) -> list[str]:
    by_group: dict[str, list[dict]] = {}
    for a in adjustments:
        by_group.setdefault(a["group_code"], []).append(a)
    out = []
    for group, items in by_group.items():
        for i in range(0, len(items), 6):
            triplets = []
            for a in items[i:i + 6]:
                triplets += [a["reason_code"], money(a["amount_cents"]), ""]
            out.append(_seg("CAS", group, *triplets))
    return out


def x835(claims: Sequence[dict], *, payer_id: str, payer_name: str, trace: str, paid_on: date,
         control: int = 1, provider_adjustments: Sequence[dict] = (), sender: str = "PAYER",
         receiver: str = "HOSPITAL", payee_npi: str = "1234567893") -> str:
    """One 835 (one check) paying `claims`: each has claim_id, claim_status, total_charge_cents,
    total_paid_cents, patient_responsibility_cents, payer_claim_control_number,
    claim_adjustments, lines (line, procedure_code, units, charge_cents, paid_cents, adjustments,
    remarks) and remarks."""
    total = sum(c["total_paid_cents"] for c in claims) - sum(
        p["amount_cents"] for p in provider_adjustments)
    body = [_seg("BPR", "I", money(total), "C", "ACH", "CCP", "01", "999999999", "DA", "123456",
                 "1512345678", "", "01", "999988880", "DA", "98765", _d8(paid_on)),
            _seg("TRN", "1", trace, "1512345678"), _seg("DTM", "405", _d8(paid_on)),
            _seg("N1", "PR", payer_name, "XV", payer_id), _seg("N3", "1 PAYER WAY"),
            _seg("N4", "ANYTOWN", "PA", "17111"), _seg("PER", "BL", "EDI SUPPORT", "TE", "8005550100"),
            _seg("N1", "PE", "SYNTHETIC HOSPITAL", "XX", payee_npi)]
    for n, c in enumerate(claims, 1):
        body.append(_seg("LX", n))
        body.append(_seg("CLP", c["claim_id"], c["claim_status"], money(c["total_charge_cents"]),
                         money(c["total_paid_cents"]),
                         money(c.get("patient_responsibility_cents") or 0), "12",
                         c.get("payer_claim_control_number") or f"PCN{n}"))
        body += _cas(c.get("claim_adjustments") or [])
        body.append(_seg("NM1", "QC", "1", "PATIENT", "SYNTHETIC"))
        remarks = list(c.get("remarks") or [])
        if remarks:
            body.append(_seg("MOA", "", "", *remarks[:5]))
        for ln in c.get("lines") or []:
            body.append(_seg("SVC", f"HC{C}{ln['procedure_code']}", money(ln["charge_cents"]),
                             money(ln["paid_cents"]), "", ln["units"]))
            body += _cas(ln.get("adjustments") or [])
            body.append(_seg("REF", "6R", ln.get("line_control_number") or ln["line"]))
            body += [_seg("LQ", "HE", r) for r in ln.get("remarks") or []]
    for p in provider_adjustments:
        body.append(_seg("PLB", p["provider_id"], _d8(p["fiscal_period_end"]),
                         p["reason_code"] + (C + p["reference"] if p.get("reference") else ""),
                         money(p["amount_cents"])))
    return _envelope("HP", "005010X221A1", body, "835", control, paid_on, sender, receiver)


def x277ca(claims: Sequence[dict], *, payer_id: str, payer_name: str, on: date, control: int = 1,
           sender: str = "CLEARINGHOUSE", receiver: str = "HOSPITAL") -> str:
    """One 277CA acknowledging `claims`: each has claim_id, statuses [(category, code, entity)],
    total_charge_cents, and optionally payer_claim_control_number, service_start, service_end."""
    body = [_seg("BHT", "0085", "08", f"ACK{control}", _d8(on), "1200", "TH"),
            _seg("HL", 1, "", 20, 1), _seg("NM1", "PR", 2, payer_name, "", "", "", "", "PI", payer_id),
            _seg("TRN", 1, f"BATCH{control}"), _seg("DTP", "050", "D8", _d8(on)),
            _seg("DTP", "009", "D8", _d8(on)),
            _seg("HL", 2, 1, 21, 1), _seg("NM1", "41", 2, "SYNTHETIC HOSPITAL", "", "", "", "", "46",
                                          "HOSP01"),
            _seg("TRN", 2, f"BATCH{control}"),
            _seg("STC", f"A1{C}19", _d8(on), "WQ", money(sum(c["total_charge_cents"] for c in claims))),
            _seg("HL", 3, 2, 19, 1), _seg("NM1", "85", 2, "SYNTHETIC HOSPITAL", "", "", "", "",
                                          "XX", "1234567893"),
            _seg("TRN", 1, "0"),
            _seg("STC", f"A1{C}19", "", "WQ", money(sum(c["total_charge_cents"] for c in claims)))]
    hl = 3
    for c in claims:
        hl += 1
        statuses = [C.join(x for x in s if x) for s in c["statuses"]]
        stc = ["STC", statuses[0], _d8(on), "WQ" if is_accepted([s[0] for s in c["statuses"]]) else "U",
               money(c["total_charge_cents"]), "", "", "", "", ""]
        stc += statuses[1:3]
        body += [_seg("HL", hl, 3, "PT"),
                 _seg("NM1", "QC", 1, "PATIENT", "SYNTHETIC", "", "", "", "MI", f"M{hl:08d}"),
                 _seg("TRN", 2, c["claim_id"]), _seg(*stc)]
        if c.get("payer_claim_control_number"):
            body.append(_seg("REF", "1K", c["payer_claim_control_number"]))
        start = c.get("service_start") or on  # the guide requires a claim service date
        end = c.get("service_end") or start
        body.append(_seg("DTP", "472", "RD8", f"{_d8(start)}-{_d8(end)}"))
    return _envelope("HN", "005010X214", body, "277", control, on, sender, receiver)
