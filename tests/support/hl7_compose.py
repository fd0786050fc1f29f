"""Write HL7 v2 ADT and DFT^P03 messages for an encounter (EncounterReceived-shaped dict).

For tests and demonstrations: the synthetic hospital's encounters become the messages a hospital
system would send, so the repository needs no third-party sample files. The birth date is made up
from the age (the pipeline keeps only the age); the patient name is a placeholder.
"""
from __future__ import annotations

from datetime import date, datetime

CLASS_CODES = {"INPATIENT": ("I", ""), "EMERGENCY": ("E", ""), "OUTPATIENT": ("O", ""),
               "OFFICE": ("O", "OFFICE")}
PLAN_CODES = {"MEDICARE": "MC", "MEDICAID": "MD", "COMMERCIAL": "CO", "SELF_PAY": "SP"}
TRIGGERS = {"ADMIT": "A01", "REGISTER": "A04", "UPDATE": "A08", "DISCHARGE": "A03",
            "CANCEL": "A11"}


def text(value: str) -> str:
    """Free text inside a field, with HL7's escapes for the delimiters."""
    return (value.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("~", "\\R\\").replace("&", "\\T\\"))


def segment(sid: str, fields: dict[int, str]) -> str:
    values = [""] * max(fields)
    for n, v in fields.items():
        values[n - 1] = v
    return "|".join([sid, *values])


def ts(value: date | datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S" if isinstance(value, datetime) else "%Y%m%d")


def birth_date(age: int, first_day: date) -> date:
    return date(first_day.year - age, first_day.month, min(first_day.day, 28))


def msh(message_type: str, control_id: str, at: datetime, facility: str = "GENHOSP") -> str:
    return "|".join(["MSH", "^~\\&", "ADT1", facility, "RCM", "RCM", ts(at), "", message_type,
                     control_id, "P", "2.5"])


def pid(enc: dict) -> str:
    return segment("PID", {1: "1", 3: f"MRN{enc['account_id'][1:]}^^^GENHOSP^MR",
                           5: "TESTPATIENT^ALEX", 7: ts(birth_date(enc["patient_age"],
                                                                    enc["service_start"])),
                           8: enc["patient_sex"], 18: enc["account_id"]})


def pv1(enc: dict, discharged: bool = False) -> str:
    cls, patient_type = CLASS_CODES[enc["encounter_class"]]
    fields = {1: "1", 2: cls, 3: f"MAIN^101^A^{enc['facility_id']}",
              7: f"{enc['provider_npi']}^DOCTOR^TEST", 18: patient_type,
              19: enc["encounter_id"], 44: ts(enc["service_start"])}
    if discharged:
        fields[45] = ts(enc["service_end"])
        if enc.get("discharge_status"):
            fields[36] = enc["discharge_status"]
    return segment("PV1", fields)


def in1(enc: dict) -> str:
    return segment("IN1", {1: "1", 2: "PLAN1", 3: enc["payer_id"], 15: PLAN_CODES[enc["plan_type"]]})


def dg1s(enc: dict) -> list[str]:
    return [segment("DG1", {1: str(d["sequence"]), 2: "I10",
                            3: f"{d['code']}^^I10" if d.get("code") else "", 4: text(d["text"]),
                            6: "F", 15: str(d["sequence"])})
            for d in enc["diagnoses"]]


def pr1s(enc: dict) -> list[str]:
    return [segment("PR1", {1: str(p["sequence"]), 2: "I10P", 3: f"{p['code']}^^I10P",
                            5: ts(enc["service_start"])})
            for p in enc.get("procedures_pcs") or []]


def adt(enc: dict, kind: str, control_id: str, at: datetime) -> str:
    """ADT^A01/A04/A08/A03/A11 for the encounter (kind: ADMIT, REGISTER, UPDATE, DISCHARGE, CANCEL)."""
    trigger = TRIGGERS[kind]
    segs = [msh(f"ADT^{trigger}^ADT_A01", control_id, at), segment("EVN", {1: trigger, 2: ts(at)}),
            pid(enc), pv1(enc, discharged=kind == "DISCHARGE")]
    if kind != "CANCEL":
        segs += [in1(enc), *dg1s(enc), *pr1s(enc)]
    return "\r".join(segs) + "\r"


def dft(enc: dict, control_id: str, at: datetime, charges: list[dict] | None = None,
        prefix: str = "T") -> str:
    """DFT^P03 posting the encounter's charge lines (FT1-12 unit amount, FT1-11 extended)."""
    segs = [msh("DFT^P03^DFT_P03", control_id, at), segment("EVN", {1: "P03", 2: ts(at)}),
            pid(enc), pv1(enc)]
    for c in charges if charges is not None else enc["charges"]:
        unit = c["unit_price_cents"]
        segs.append(segment("FT1", {
            1: str(c["line"]), 2: f"{prefix}{enc['encounter_id']}-{c['line']}",
            4: ts(c["service_date"]), 6: "CG", 7: c["charge_code"], 10: str(c["units"]),
            11: _money(unit * c["units"]), 12: _money(unit)}))
    return "\r".join(segs) + "\r"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
