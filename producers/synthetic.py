"""The synthetic hospital: a seeded, reproducible stream of encounters, remittances and payments
over ~90 days of event time, with realistic mixes, some out-of-order arrivals, ~1% bad records, and
the ground truth every balance must reach.

Records are encoded here, once. `emitted_at` holds the record's `occurred_at` as a placeholder and
`Outgoing.stamp_at` says where it sits; producers.publish stamps the wall clock there. So the same
seed and start give the same bytes, and the truth never depends on emitted_at.
Each good record carries its own balance effect, summed from the amounts chosen here (not from the
ledger rules), following the balance semantics of the team spec.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from processors.chargemaster import load_charge_master
from producers import bad as badrec
from producers.encounters import (
    CLASS_MIX,
    FACILITIES,
    PROVIDERS,
    Catalog,
    em_documentation,
    inpatient_extras,
    make_patient,
    pick,
)
from producers.remits import ALLOWED_BP, adjudicate, terms_for
from producers.stamp import emitted_at_offset
from schemas import codec
from schemas.accounts import make_account_id
from schemas.envelope import Outgoing
from schemas.topics import APPEALS, ENCOUNTERS, INPUTS, PAYMENTS, REMITTANCES, Topic

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
WINDOW_DAYS = 90
BAD_SHARE = 0.01
HELD_SHARE = 0.03  # encounters charged the same item twice: the scrubber holds the claim
# Office visits from 2026-10-01 whose source still sends a code FY2027 deleted (coding review).
STALE_CODE_SHARE = 0.02
STALE_CODE_FROM = date(2026, 10, 1)
STALE_CODE = ("plantar fasciitis", "M72.2")
OUT_OF_ORDER_SHARE = 0.03  # remittances that reach the stream before their encounter
ENCOUNTERS_PER_ACCOUNT = ((1, 75), (2, 18), (3, 7))
# Coordination of benefits: share of accounts with a secondary payer, by primary plan (dual
# eligibles: Medicare with Medicaid; commercial plans with a spouse's plan), and what it pays of
# the patient responsibility the primary left (the rest stays the patient's).
SECONDARY_SHARE = {"MEDICARE": 0.25, "COMMERCIAL": 0.08}
SECONDARY_PAYS_PERCENT = {"MEDICAID": 100, "COMMERCIAL": 80}
CORRECTED_SHARE = 0.03  # encounters re-sent with an extra charge line (a corrected claim)
CORRECTION_ITEMS = ("CM100301", "CM100302")  # lab lines no scrub edit pairs with a visit
METHODS = (("CARD", 50), ("ONLINE", 25), ("CHECK", 15), ("CASH", 10))
# What the billing team does with a denied claim: appeal and win (the payer pays on a later
# remittance), appeal and lose (then write off), write off at once, or nothing yet.
DENIAL_WORK = (("overturned", 30), ("upheld", 15), ("written_off", 25), ("none", 30))


@dataclass
class Scenario:
    records: list[Outgoing]
    truth: dict = field(default_factory=dict)

    def write_truth(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.truth, indent=1, sort_keys=True))


class _Event:
    __slots__ = ("charges", "info", "insurance", "order", "patient", "rec", "topic")

    def __init__(self, order: int, topic: Topic, rec: dict, insurance=0, patient=0, charges=0,
                 **info):
        self.order, self.topic, self.rec = order, topic, rec
        self.insurance, self.patient, self.charges, self.info = insurance, patient, charges, info


def _ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def default_start(clock=None) -> date:
    """The window ends today, so aging and appeal deadlines look live."""
    now = clock() if clock else datetime.now(UTC)
    return now.date() - timedelta(days=WINDOW_DAYS)


class _Hospital:
    def __init__(self, rng: random.Random, seed: int, start: date, charge_master):
        self.rng, self.seed, self.start = rng, seed, start
        self.em_rng = random.Random(f"em-{seed}")  # E/M fields: the rest of the stream as without them
        self.cob_rng = random.Random(f"cob-{seed}")  # secondary payers and corrections, likewise
        self.codeset_rng = random.Random(f"codeset-{seed}")  # last year's codes, likewise
        self.secondary: dict[str, str | None] = {}
        self.t0, self.t_end = _ms(start), _ms(start) + WINDOW_DAYS * DAY_MS
        self.catalog = Catalog(charge_master)
        self.n = {"account": 0, "encounter": 0, "remittance": 0, "payment": 0, "event": 0}

    def next(self, what: str) -> int:
        self.n[what] += 1
        return self.n[what]

    def event_id(self, prefix: str) -> str:
        return f"{prefix}-{self.seed}-{self.next('event'):07d}"

    def patient(self):
        number = (self.seed % 1000) * 1_000_000 + self.next("account")
        return make_patient(self.rng, make_account_id(number))

    def encounter(self, patient, day: int) -> tuple[dict, bool, bool]:
        """The encounter, whether a statement is too vague to code, and whether its E/M fields
        support another level than the one billed (both send it to coding review)."""
        rng = self.rng
        cls = pick(rng, CLASS_MIX)
        start = self.start + timedelta(days=day)
        stay = rng.randint(1, 6) if cls == "INPATIENT" else int(cls == "EMERGENCY" and rng.random() < 0.2)
        end = start + timedelta(days=stay)
        # Accounts with a secondary payer come pre-coded (as from a registration system that codes),
        # so their claims build without a coder and the truth can count on the secondary billing.
        secondary = self.secondary_payer(patient)
        diagnoses, vague = self.catalog.diagnoses(rng, patient, cls, precoded=secondary is not None,
                                                  on=end if cls == "INPATIENT" else start)
        encounter_id = f"E{self.seed}-{self.next('encounter'):07d}"
        occurred = _ms(end) + rng.randint(16 * HOUR_MS, 24 * HOUR_MS - 1)
        stay_extras = (inpatient_extras(encounter_id, diagnoses) if cls == "INPATIENT"
                       else {"procedures_pcs": [], "discharge_status": None})
        rec = {
            "event_id": self.event_id("enc"), "encounter_id": encounter_id,
            "account_id": patient.account_id, "occurred_at": occurred, "emitted_at": occurred,
            "patient_age": patient.age, "patient_sex": patient.sex, "payer_id": patient.payer_id,
            "plan_type": patient.plan_type, "provider_npi": rng.choice(PROVIDERS),
            "facility_id": rng.choice(FACILITIES[cls]), "encounter_class": cls,
            "service_start": start, "service_end": end, "diagnoses": diagnoses,
            "charges": self.catalog.charges(rng, patient, cls, start, end), **stay_extras,
        }
        visit = self.catalog.charge_master[rec["charges"][0]["charge_code"]].procedure_code
        rec["em"], em_review = em_documentation(self.em_rng, visit, vague)
        if secondary is not None:
            rec["secondary_payer_id"] = secondary
        stale = self.last_years_code(rec, secondary is None)
        return rec, vague or stale, em_review

    def last_years_code(self, rec: dict, may: bool) -> bool:
        """A source still on last year's code set: an office visit after 2026-10-01 sent with a
        code FY2027 deleted (it goes to coding review, named there; nothing follows yet)."""
        if (rec["encounter_class"] != "OFFICE" or rec["service_start"] < STALE_CODE_FROM
                or self.codeset_rng.random() >= STALE_CODE_SHARE or not may):
            return False
        rec["diagnoses"][0].update(text=STALE_CODE[0], code=STALE_CODE[1])
        return True

    def secondary_payer(self, patient) -> str | None:
        """The account's secondary payer, the same for all its encounters."""
        if patient.account_id not in self.secondary:
            chosen = None
            if self.cob_rng.random() < SECONDARY_SHARE.get(patient.plan_type, 0):
                chosen = ("MEDICAID" if patient.plan_type == "MEDICARE" else
                          next(p for p in ("COMM-BLUE", "COMM-NORTH") if p != patient.payer_id))
            self.secondary[patient.account_id] = chosen
        return self.secondary[patient.account_id]

    def corrected(self, enc: dict, cm) -> dict | None:
        """The encounter re-sent a day or three later with an extra lab line (a new event id, the
        same encounter id), or None when it is not corrected."""
        have = {c["charge_code"] for c in enc["charges"]}
        missing = [c for c in CORRECTION_ITEMS if c not in have]
        if self.cob_rng.random() >= CORRECTED_SHARE or not missing:
            return None
        item = cm[missing[0]]
        at = enc["occurred_at"] + self.cob_rng.randint(1, 3) * DAY_MS
        line = {"line": len(enc["charges"]) + 1, "charge_code": item.charge_code, "units": 1,
                "unit_price_cents": item.unit_price_cents, "service_date": enc["service_start"]}
        return {**enc, "event_id": self.event_id("enc"), "occurred_at": at, "emitted_at": at,
                "charges": [*enc["charges"], line]}

    def secondary_remittance(self, primary: dict, payer_id: str, at: int) -> tuple[_Event, int]:
        """The secondary's 835 for the claim the pipeline bills it (claim id + -S): OA-23 repeats
        what the primary settled, the secondary pays its share of the primary's PR, and what it
        does not pay stays the patient's (PR-2) or, for Medicaid, is written off (CO-45)."""
        pays = SECONDARY_PAYS_PERCENT["MEDICAID" if payer_id == "MEDICAID" else "COMMERCIAL"]
        lines = []
        for ln in primary["lines"]:
            pr = sum(a["amount_cents"] for a in ln["adjustments"] if a["group_code"] == "PR")
            paid = pr * pays // 100
            adjustments = [{"group_code": "OA", "reason_code": "23",
                            "amount_cents": ln["charge_cents"] - pr}] if ln["charge_cents"] > pr else []
            if pr > paid:
                adjustments.append({"group_code": "PR", "reason_code": "2", "amount_cents": pr - paid})
            lines.append({**ln, "paid_cents": paid, "adjustments": adjustments, "remarks": []})
        paid = sum(ln["paid_cents"] for ln in lines)
        left = sum(a["amount_cents"] for ln in lines for a in ln["adjustments"] if a["group_code"] == "PR")
        rec = {**primary, "event_id": self.event_id("rem"),
               "remittance_id": f"R{self.seed}-{self.next('remittance'):07d}",
               "claim_id": primary["claim_id"] + "-S", "occurred_at": at, "emitted_at": at,
               "payer_id": payer_id, "claim_status": "2",
               "payer_claim_control_number": f"{self.cob_rng.randrange(10**13, 10**14)}",
               "trace_number": f"EFT{payer_id[-4:]}{(at - self.t0) // DAY_MS:03d}{self.seed % 1000:03d}",
               "total_paid_cents": paid, "patient_responsibility_cents": left,
               "claim_adjustments": [], "lines": lines, "remarks": []}
        # the secondary holds the transferred PR: it pays part, the rest moves to the patient
        return _Event(at, REMITTANCES, rec, insurance=-(paid + left), patient=left, denials=[],
                      denied=False, whole_denial=False, out_of_order=False, secondary=True), left

    def payment(self, account_id: str, at: int, amount: int, kind: str = "PAYMENT",
                method: str | None = None) -> _Event:
        rec = {"event_id": self.event_id("pay"), "payment_id": f"P{self.seed}-{self.next('payment'):07d}",
               "account_id": account_id, "occurred_at": at, "emitted_at": at, "kind": kind,
               "method": method or pick(self.rng, METHODS), "amount_cents": amount}
        sign = -1 if kind == "PAYMENT" else 1
        return _Event(at, PAYMENTS, rec, patient=sign * amount, refund=kind == "REFUND")

    def remittance(self, enc: dict, patient, at: int, terms) -> tuple[_Event, int]:
        rng, cm = self.rng, self.catalog.charge_master
        lines = [(cm[c["charge_code"]].procedure_code or cm[c["charge_code"]].revenue_code,
                  c["units"], c["units"] * c["unit_price_cents"]) for c in enc["charges"]]
        status, rlines, remarks = adjudicate(rng, patient.payer_id, lines, terms)
        paid = sum(ln["paid_cents"] for ln in rlines)
        pr = sum(a["amount_cents"] for ln in rlines for a in ln["adjustments"] if a["group_code"] == "PR")
        co45 = sum(a["amount_cents"] for ln in rlines for a in ln["adjustments"]
                   if a["group_code"] == "CO" and a["reason_code"] == "45")
        denials = [a["amount_cents"] for ln in rlines for a in ln["adjustments"]
                   if a["group_code"] != "PR" and a["reason_code"] != "45"]
        rec = {"event_id": self.event_id("rem"), "remittance_id": f"R{self.seed}-{self.next('remittance'):07d}",
               "account_id": enc["account_id"], "claim_id": "CLM-" + enc["encounter_id"],
               "occurred_at": at, "emitted_at": at, "payer_id": patient.payer_id,
               "payer_claim_control_number": f"{rng.randrange(10**13, 10**14)}",
               "trace_number": f"EFT{patient.payer_id[-4:]}{(at - self.t0) // DAY_MS:03d}{self.seed % 1000:03d}",
               "claim_status": status, "total_charge_cents": sum(ln[2] for ln in lines),
               "total_paid_cents": paid, "patient_responsibility_cents": pr,
               "claim_adjustments": [], "lines": rlines, "remarks": remarks}
        ev = _Event(at, REMITTANCES, rec, insurance=-(paid + co45 + pr), patient=pr,
                    denials=denials, denied=bool(denials), whole_denial=status == "4")
        return ev, pr

    def bundle(self, patient) -> list[_Event]:
        """One encounter and what follows it, in the order it happens; events after the window are
        left out (they have not happened yet)."""
        rng = self.rng
        enc, vague, em_review = self.encounter(patient, rng.randint(0, WINDOW_DAYS - 10))
        held = not vague and rng.random() < HELD_SHARE and not em_review
        if held:  # a double-keyed charge: real money on the account, but the claim must not go out
            enc["charges"].append({**enc["charges"][0], "line": len(enc["charges"]) + 1})
        charges = sum(c["units"] * c["unit_price_cents"] for c in enc["charges"])
        self_pay = patient.plan_type == "SELF_PAY"
        events = [_Event(enc["occurred_at"], ENCOUNTERS, enc, insurance=0 if self_pay else charges,
                         patient=charges if self_pay else 0, charges=charges, vague=vague,
                         held=held, em_review=em_review)]
        if vague or em_review or held:  # in coding review or a held claim: nothing follows yet
            return events
        fixed = self.corrected(enc, self.catalog.charge_master)
        if fixed is not None:  # the claim is rebuilt as version 2; the ledger adds the extra line
            extra = fixed["charges"][-1]["unit_price_cents"]
            events.append(_Event(fixed["occurred_at"], ENCOUNTERS, fixed,
                                 insurance=0 if self_pay else extra,
                                 patient=extra if self_pay else 0, charges=extra, corrected=True))
            enc, charges = fixed, charges + extra
        day0 = _ms(enc["service_start"])
        owed, prepaid = charges, 0
        if not self_pay:
            terms = terms_for(rng, patient.plan_type, enc["encounter_class"])
            if terms.copay and enc["encounter_class"] == "OFFICE" and rng.random() < 0.6:
                prepaid = terms.copay  # collected at check-in, before the visit is charged
                events.append(self.payment(patient.account_id, day0 + rng.randint(8, 15) * HOUR_MS,
                                           prepaid, method=rng.choice(("CARD", "CASH"))))
            at = enc["occurred_at"] + rng.randint(12, 40) * DAY_MS + rng.randint(0, 4 * HOUR_MS)
            remit, owed = self.remittance(enc, patient, at, terms)
            remit.info["out_of_order"] = rng.random() < OUT_OF_ORDER_SHARE
            if remit.info["out_of_order"]:
                remit.order = events[0].rec["occurred_at"] - rng.randint(1, HOUR_MS)
            events.append(remit)
            secondary = enc.get("secondary_payer_id")
            if secondary and remit.rec["claim_status"] == "1" and owed > 0:
                # the pipeline bills the secondary and moves the PR back to insurance
                remit.insurance, remit.patient = remit.insurance + owed, remit.patient - owed
                remit.info["bills_secondary"] = True
                at2 = at + self.cob_rng.randint(10, 25) * DAY_MS
                second, owed = self.secondary_remittance(remit.rec, secondary, at2)
                events.append(second)
        billed = (events[-1].rec["occurred_at"] if not self_pay else enc["occurred_at"]) + 7 * DAY_MS
        events += self.patient_payments(patient.account_id, billed, owed - prepaid)
        if not self_pay and remit.info["denied"]:
            events += self.work_denials(remit.rec)
        return [e for e in events if e.rec["occurred_at"] < self.t_end]

    def appeal(self, remit: dict, denial_id: str, action: str, at: int, amount=None) -> _Event:
        rec = {"event_id": self.event_id("apl"), "account_id": remit["account_id"],
               "occurred_at": at, "emitted_at": at, "action": action,
               "claim_id": remit["claim_id"], "denial_id": denial_id, "partition": None,
               "amount_cents": amount, "reason_code": None,
               "reference": f"APL-{remit['remittance_id']}" if action != "WRITTEN_OFF" else None}
        return _Event(at, APPEALS, rec, insurance=-(amount or 0), action=action,
                      written_off=amount or 0)

    def work_denials(self, remit: dict) -> list[_Event]:
        """Appeal events for each denial of a remittance (ids as the denial stage derives them),
        filed well inside every payer's appeal window; an overturned appeal is paid on a later
        remittance of the denied lines (allowed amount, the rest contractual)."""
        rng, out = self.rng, []
        denied = [(ln, i, adj) for ln in remit["lines"] for i, adj in enumerate(ln["adjustments"])
                  if adj["group_code"] != "PR" and adj["reason_code"] != "45"]
        work = pick(rng, DENIAL_WORK)
        at = remit["occurred_at"] + rng.randint(5, 25) * DAY_MS + rng.randint(8, 17) * HOUR_MS
        decided = at + rng.randint(15, 40) * DAY_MS
        for ln, i, adj in denied:
            denial_id = f"{remit['event_id']}:denial:{ln['line']}:{i}"
            if work in ("overturned", "upheld"):
                out.append(self.appeal(remit, denial_id, "FILED", at))
                out.append(self.appeal(remit, denial_id, work.upper(), decided))
            if work == "upheld":
                out.append(self.appeal(remit, denial_id, "WRITTEN_OFF",
                                       decided + rng.randint(3, 10) * DAY_MS, adj["amount_cents"]))
            elif work == "written_off":
                out.append(self.appeal(remit, denial_id, "WRITTEN_OFF", at, adj["amount_cents"]))
        if work == "overturned":
            out.append(self.repayment(remit, [ln for ln, _i, _a in denied],
                                      decided + rng.randint(7, 20) * DAY_MS))
        return out

    def repayment(self, remit: dict, lines: list[dict], at: int) -> _Event:
        low, high = ALLOWED_BP[remit["payer_id"]]
        bp = self.rng.randint(low, high)
        rlines = []
        for ln in lines:
            allowed = ln["charge_cents"] * bp // 10_000
            adjustments = ([{"group_code": "CO", "reason_code": "45",
                             "amount_cents": ln["charge_cents"] - allowed}]
                           if ln["charge_cents"] > allowed else [])
            rlines.append({**ln, "paid_cents": allowed, "adjustments": adjustments, "remarks": []})
        paid = sum(ln["paid_cents"] for ln in rlines)
        charge = sum(ln["charge_cents"] for ln in rlines)
        rec = {**remit, "event_id": self.event_id("rem"),
               "remittance_id": f"R{self.seed}-{self.next('remittance'):07d}",
               "occurred_at": at, "emitted_at": at, "claim_status": "1",
               "payer_claim_control_number": f"{self.rng.randrange(10**13, 10**14)}",
               "total_charge_cents": charge, "total_paid_cents": paid,
               "patient_responsibility_cents": 0, "claim_adjustments": [], "lines": rlines,
               "remarks": []}
        return _Event(at, REMITTANCES, rec, insurance=-charge, denials=[], denied=False,
                      whole_denial=False, out_of_order=False, repayment=True)

    def patient_payments(self, account_id: str, billed: int, balance: int) -> list[_Event]:
        rng, out = self.rng, []
        if balance < 0:  # copay collected but the claim left less to the patient
            return [self.payment(account_id, billed + rng.randint(3, 20) * DAY_MS, -balance, "REFUND")]
        if balance == 0:
            return out
        style = pick(rng, (("none", 18), ("full", 45), ("partial", 25), ("late", 10), ("over", 2)))
        at = billed + rng.randint(1, 30) * DAY_MS + rng.randint(8, 20) * HOUR_MS
        if style in ("full", "late"):
            out.append(self.payment(account_id, at + (rng.randint(30, 60) * DAY_MS if style == "late" else 0), balance))
        elif style == "partial":
            left = balance
            for _ in range(rng.randint(1, 3)):
                amount = max(1, left * rng.randint(20, 60) // 100)
                out.append(self.payment(account_id, at, amount))
                left -= amount
                at += rng.randint(25, 35) * DAY_MS
        elif style == "over":
            extra = rng.randint(500, 10_000)
            out.append(self.payment(account_id, at, balance + extra))
            out.append(self.payment(account_id, at + rng.randint(7, 21) * DAY_MS, extra, "REFUND"))
        return out


def generate(events: int, seed: int, start: date | None = None, clock=None,
             bad_share: float = BAD_SHARE, charge_master=None) -> Scenario:
    """Exactly `events` records: good bundles (account by account, interleaved in event time) plus
    bad records. `start` defaults to 90 days before the clock's today: pass it to pin the bytes."""
    rng = random.Random(seed)
    start = start or default_start(clock)
    hospital = _Hospital(rng, seed, start, charge_master or load_charge_master())
    n_bad = round(events * bad_share)
    if bad_share > 0 and events >= 1000:
        n_bad = max(n_bad, len(badrec.KINDS))
    good: list[_Event] = []
    while len(good) < events - n_bad:
        patient = hospital.patient()
        for _ in range(pick(rng, ENCOUNTERS_PER_ACCOUNT)):
            good += hospital.bundle(patient)
    del good[events - n_bad:]  # cuts the tail of the last bundle only: its encounter stays
    bad = _bad_events(rng, hospital, good, n_bad)
    ordered = sorted(good + bad, key=lambda e: e.order)  # stable: a bundle keeps its order on ties
    records = [_outgoing(rng, e) for e in ordered]
    return Scenario(records, summarise(seed, events, start, good, bad))


def _bad_events(rng: random.Random, hospital: _Hospital, good: list[_Event], n: int) -> list[_Event]:
    kinds = list(badrec.KINDS)
    plan = kinds[:n] if n <= len(kinds) else kinds + [rng.choice(kinds) for _ in range(n - len(kinds))]
    templates = {t.name: [e for e in good if e.topic is t] for t in INPUTS}
    rotation = {k: 0 for k in kinds}
    out = []
    for kind in plan:
        topics = badrec.KINDS[kind][1]
        topic = topics[rotation[kind] % len(topics)]
        rotation[kind] += 1
        if topic is ENCOUNTERS:  # a fresh account, so the bad encounter leaves no balance behind
            rec, *_ = hospital.encounter(hospital.patient(), rng.randint(0, WINDOW_DAYS - 10))
        elif templates[topic.name]:
            rec = dict(rng.choice(templates[topic.name]).rec, event_id=hospital.event_id("bad"))
            id_field = "remittance_id" if topic is REMITTANCES else "payment_id"
            rec[id_field] = f"X{rec[id_field]}"
        else:
            topic, kind = ENCOUNTERS, "garbage"
            rec, *_ = hospital.encounter(hospital.patient(), 0)
        rec["occurred_at"] = rec["emitted_at"] = hospital.t0 + rng.randrange(WINDOW_DAYS * DAY_MS)
        broken = badrec.corrupt(rng, kind, rec)
        out.append(_Event(rec["occurred_at"], topic, broken or rec, bad=kind))
    return out


def _outgoing(rng: random.Random, e: _Event) -> Outgoing:
    kind, schema = e.info.get("bad"), e.topic.value_schema
    key = codec.key_of(e.topic, e.rec)
    if kind in ("garbage", "truncated", "unknown_schema"):
        return Outgoing(e.topic, key, badrec.bad_bytes(rng, kind, schema, e.rec), bad=kind)
    return Outgoing(e.topic, key, codec.encode(schema, e.rec), stamp_at=emitted_at_offset(schema, e.rec),
                    bad=kind)


def summarise(seed: int, events: int, start: date, good: list[_Event], bad: list[_Event]) -> dict:
    """The ground truth: per-account balances and the counts the pipeline must reproduce."""
    accounts: dict[str, dict[str, int]] = {}
    for e in good:
        a = accounts.setdefault(e.rec["account_id"], {"insurance_cents": 0, "patient_cents": 0,
                                                      "total_cents": 0, "charges_cents": 0})
        a["insurance_cents"] += e.insurance
        a["patient_cents"] += e.patient
        a["total_cents"] += e.insurance + e.patient
        a["charges_cents"] += e.charges
    by_topic = {t.name: 0 for t in INPUTS}
    good_by_topic = dict(by_topic)
    for e in good:
        good_by_topic[e.topic.name] += 1
    bad_by_kind: dict[str, dict[str, int]] = {}
    bad_by_category: dict[str, int] = {}
    bad_by_topic = dict(by_topic)
    for e in bad:
        kind = e.info["bad"]
        per_topic = bad_by_kind.setdefault(kind, {})
        per_topic[e.topic.name] = per_topic.get(e.topic.name, 0) + 1
        category = badrec.KINDS[kind][0]
        bad_by_category[category] = bad_by_category.get(category, 0) + 1
        bad_by_topic[e.topic.name] += 1
    remits = [e for e in good if e.topic is REMITTANCES]
    denials = [d for e in remits for d in e.info["denials"]]
    counts = {
        "records": len(good) + len(bad),
        "records_by_topic": {t: good_by_topic[t] + bad_by_topic[t] for t in by_topic},
        "good_by_topic": good_by_topic,
        "bad_by_topic": bad_by_topic,
        "bad_by_kind": bad_by_kind,
        "bad_by_category": bad_by_category,
        "dead_letters": len(bad),
        "encounters": good_by_topic[ENCOUNTERS.name],
        "vague_encounters": sum(1 for e in good if e.info.get("vague")),
        "held_encounters": sum(1 for e in good if e.info.get("held")),
        "corrected_encounters": sum(1 for e in good if e.info.get("corrected")),
        "secondary_claims": sum(1 for e in good if e.info.get("bills_secondary")),
        "secondary_remittances": sum(1 for e in good if e.info.get("secondary")),
        "em_review_encounters": sum(1 for e in good if e.info.get("em_review")),
        "remittances": len(remits),
        "denied_claims": sum(1 for e in remits if e.info["denied"]),
        "whole_claim_denials": sum(1 for e in remits if e.info["whole_denial"]),
        "denial_adjustments": len(denials),
        "denial_cents": sum(denials),
        "out_of_order_remittances": sum(1 for e in remits if e.info["out_of_order"]),
        "appeal_events": good_by_topic[APPEALS.name],
        "appeals_filed": sum(1 for e in good if e.topic is APPEALS and e.info["action"] == "FILED"),
        "denial_write_offs": sum(1 for e in good if e.topic is APPEALS and e.info["written_off"]),
        "denial_write_off_cents": sum(e.info["written_off"] for e in good if e.topic is APPEALS),
        "repayment_remittances": sum(1 for e in remits if e.info.get("repayment")),
        "payments": sum(1 for e in good if e.topic is PAYMENTS and not e.info["refund"]),
        "refunds": sum(1 for e in good if e.topic is PAYMENTS and e.info["refund"]),
    }
    totals = {k: sum(a[k] for a in accounts.values()) for k in
              ("insurance_cents", "patient_cents", "total_cents", "charges_cents")}
    return {"seed": seed, "events": events, "start": start.isoformat(), "window_days": WINDOW_DAYS,
            "accounts": accounts, "totals": totals, "counts": counts}
