"""837P / 837I files as a hospital's billing system sends them, written from the 005010X222A1 and
005010X223A2 implementation guides (no third-party sample copied): the variations real files have
(several claims per subscriber or patient loop, several interchanges per file, any component
separator, MJ minutes, institutional HI qualifiers and a DRG)."""
from __future__ import annotations

from collections.abc import Sequence


def _isa(sender: str, isa13: int, component: str, repetition: str, on: str) -> str:
    return (f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{'CLEARHOUSE':<15}*{on[2:]}*1200*"
            f"{repetition}*00501*{isa13:09d}*0*P*{component}")


def interchange(body: Sequence[str], version: str, isa13: int, *, sender: str = "HOSPBILL",
                component: str = ":", repetition: str = "^", on: str = "20251105",
                newline: bool = True) -> str:
    """One ISA..IEA holding one 837 transaction whose segments (BHT on, `:` as component) are `body`."""
    segs = [f"ST*837*0001*{version}", *(s.replace(":", component) for s in body)]
    segs.append(f"SE*{len(segs) + 1}*0001")
    out = [_isa(sender, isa13, component, repetition, on),
           f"GS*HC*{sender}*CLEARHOUSE*{on}*1200*{isa13}*X*{version}", *segs,
           f"GE*1*{isa13}", f"IEA*1*{isa13:09d}"]
    return ("~\n" if newline else "~").join(out) + "~\n"


def header(on: str = "20251105", npi: str = "1234567893", name: str = "GENERAL HOSPITAL") -> list[str]:
    return [f"BHT*0019*00*B{on}*{on}*1200*CH",
            "NM1*41*2*GENERAL HOSPITAL BILLING*****46*HOSPBILL", "PER*IC*BILLING*TE*5555551234",
            "NM1*40*2*CLEARHOUSE*****46*CLEARHOUSE",
            "HL*1**20*1", f"NM1*85*2*{name}*****XX*{npi}", "N3*100 MAIN ST",
            "N4*SPRINGFIELD*IL*627010000", "REF*EI*123456789"]


def subscriber(hl: int, payer_id: str, filing: str = "CI", child: bool = False,
               sequence: str = "P") -> list[str]:
    """2000B (and 2010BA/2010BB): the subscriber is the patient unless `child`."""
    return [f"HL*{hl}*1*22*{1 if child else 0}",
            f"SBR*{sequence}*{'' if child else '18'}*GRP01******{filing}",
            "NM1*IL*1*DOE*JANE****MI*W123456789", "N3*1 ELM ST", "N4*SPRINGFIELD*IL*62701",
            "DMG*D8*19700101*F", f"NM1*PR*2*PAYER {payer_id}*****PI*{payer_id}"]


def patient(hl: int, parent: int) -> list[str]:
    """2000C: a dependent patient."""
    return [f"HL*{hl}*{parent}*23*0", "PAT*19", "NM1*QC*1*DOE*JOHN", "N3*1 ELM ST",
            "N4*SPRINGFIELD*IL*62701", "DMG*D8*20100101*M"]
