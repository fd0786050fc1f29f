"""Every page and action over HTTP: what each role sees, bad input with a clear error, actions
published as events on the broker (with deterministic ids), and a refusal's dead-letter reason."""
from __future__ import annotations

import html
import json
import re
from datetime import date

import pytest

from schemas import codec
from schemas import topics as T
from tests.console.conftest import hidden
from tests.console.kafka_read import find_event
from tests.console.seed_rows import ACCOUNT, seed

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(owner_db):
    seed(owner_db)
    return owner_db


def event_id_of(response) -> str:
    assert response.status_code == 303, response.text
    found = re.match(r"^/actions/\w+/(console:\w+:[0-9a-f]{32})$", response.headers["location"])
    assert found, response.headers["location"]
    return found[1]


def test_the_coding_queue_shows_the_review_with_its_statements_and_reasons(login, seeded):
    client = login("coder")
    queue = client.get("/coding?class=OFFICE")
    assert queue.status_code == 200 and "E7001" in queue.text and "$145.00" in queue.text
    assert "E7001" not in client.get("/coding?class=INPATIENT").text
    review = client.get("/coding/rev-1")
    assert "feeling off" in review.text and "essential hypertension" in review.text
    assert "no code fits" in review.text
    assert re.search(r'<textarea id="codes"[^>]*>I10</textarea>', review.text)


def test_a_category_code_is_refused_before_anything_is_sent(login, seeded):
    client = login("coder")
    page = client.get("/coding/rev-1").text
    response = client.post("/coding/rev-1/decide", data={
        "csrf": hidden(page, "csrf"), "action_id": hidden(page, "action_id"), "codes": "E11 I10"})
    assert response.status_code == 400
    assert "E11 is a category with subcodes, not billable" in response.text
    assert seeded.rows("select count(*) as n from console_audit where action = 'coding_decision'") \
        == [{"n": 0}]


def test_a_decision_is_published_once_per_form_and_a_refusal_shows_the_pipelines_reason(
        login, seeded, services):
    client = login("coder")
    page = client.get("/coding/rev-1").text
    form = {"csrf": hidden(page, "csrf"), "action_id": hidden(page, "action_id"),
            "codes": "r53.83, I10"}
    first = event_id_of(client.post("/coding/rev-1/decide", data=form))
    again = event_id_of(client.post("/coding/rev-1/decide", data=form))
    assert first == again  # the same form twice is the same event: the pipeline applies it once
    [decision, _] = find_event(services.bootstrap, T.CODING_DECISIONS, first)
    assert decision["encounter_id"] == "E7001" and decision["account_id"] == ACCOUNT
    assert decision["coder_id"] == "coder1"
    assert [(d["sequence"], d["code"]) for d in decision["diagnoses"]] == [(1, "R53.83"), (2, "I10")]
    outcome = client.get(f"/actions/coding/{first}")
    assert 'data-state="pending"' in outcome.text
    # the pipeline refuses it: its dead letter carries the event's bytes and the reason
    reason = "already released by decision dec-0"
    seeded.execute("""insert into dead_letters (event_id, source_topic, source_partition,
                          source_offset, stage, error, reason, payload, dead_lettered_at)
                      values ('coding-decisions:0:9:coding', 'coding-decisions', 0, 9, 'coding',
                              'INVALID', %s, %s, now())""",
                   (reason, codec.encode(T.CODING_DECISIONS.value_schema, decision)))
    outcome = client.get(f"/actions/coding/{first}")
    assert 'data-state="refused"' in outcome.text and reason in outcome.text
    audit = seeded.rows("select username, action, target, event_id, outcome from console_audit "
                        "where action = 'coding_decision'")
    assert audit[0] == {"username": "coder1", "action": "coding_decision", "target": "E7001",
                        "event_id": first, "outcome": "published"}


def test_the_code_picker_finds_codes_by_code_and_by_words_and_checks_them(login, seeded):
    client = login("coder")
    assert "<code>I10</code> Essential (primary) hypertension" in client.get(
        "/codes/search?q=I10").text
    words = client.get("/codes/search?q=essential hypertension").text
    assert "<code>I10</code>" in words
    assert "not billable" in client.get("/codes/check?codes=E11").text
    assert "Billable, no conflicts found." in client.get("/codes/check?codes=I10").text
    assert "is not an ICD-10-CM code" in client.get("/codes/check?codes=Q99.99").text


def test_an_age_or_sex_conflict_is_named():
    from infra.console import codes

    assert any("male patients only" in p for p in codes.problems(["N40.0"], age=60, sex="F"))
    assert any("needs age" in p for p in codes.problems(["P07.30"], age=40, sex="F"))
    assert codes.problems(["N40.0"], age=60, sex="M") == []


def test_the_denials_page_shows_root_causes_and_an_appeal_step_is_an_appeal_event(
        login, seeded, services):
    client = login("denials")
    page = client.get("/denials?queue=UTILIZATION_MANAGEMENT")
    assert page.status_code == 200
    assert "DEN-7001" in page.text and "AUTHORIZATION" in page.text and "$120.00" in page.text
    bad = client.post("/denials/DEN-7001/step", data={
        "csrf": hidden(page.text, "csrf"), "action_id": hidden(page.text, "action_id"),
        "action": "APPROVED"})
    assert bad.status_code == 400 and "Choose one of" in bad.text
    eid = event_id_of(client.post("/denials/DEN-7001/step", data={
        "csrf": hidden(page.text, "csrf"), "action_id": hidden(page.text, "action_id"),
        "action": "FILED", "reference": "APL-1"}))
    [event] = find_event(services.bootstrap, T.APPEALS, eid)
    assert (event["action"], event["denial_id"], event["claim_id"], event["account_id"],
            event["reference"]) == ("FILED", "DEN-7001", "CLM-7001", ACCOUNT, "APL-1")


def test_a_biller_sees_denials_but_cannot_send_appeal_steps(login, seeded):
    client = login("biller")
    page = client.get("/denials")
    assert page.status_code == 200 and "DEN-7001" in page.text and "/step" not in page.text
    response = client.post("/denials/DEN-7001/step", data={"csrf": hidden(page.text, "csrf"),
                                                           "action": "FILED"})
    assert response.status_code == 403


def test_the_account_page_is_audited_and_a_payment_is_a_payment_received(login, seeded, services):
    client = login("biller")
    page = client.get(f"/accounts/{ACCOUNT}")
    assert page.status_code == 200
    assert 'id="patient">$30.00' in page.text and 'id="total">$200.00' in page.text
    assert "CLM-7001" in page.text and "DEN-7001" in page.text
    form = {"csrf": hidden(page.text, "csrf"), "action_id": hidden(page.text, "action_id"),
            "kind": "PAYMENT", "method": "CARD"}
    for amount, message in (("12.345", "is not an amount"), ("-5", "is not an amount"),
                            ("0.00", "more than zero")):
        bad = client.post(f"/accounts/{ACCOUNT}/payments", data={**form, "amount": amount})
        assert bad.status_code == 400 and message in bad.text
    eid = event_id_of(client.post(f"/accounts/{ACCOUNT}/payments", data={**form, "amount": "25.50"}))
    [event] = find_event(services.bootstrap, T.PAYMENTS, eid)
    assert (event["account_id"], event["kind"], event["method"], event["amount_cents"]) == (
        ACCOUNT, "PAYMENT", "CARD", 2550)
    views = seeded.rows("select username, target from console_audit where action = 'view_account'")
    assert {"username": "biller1", "target": ACCOUNT} in views


def test_a_denials_specialist_sees_an_account_but_gets_no_payment_form(login, seeded):
    page = login("denials").get(f"/accounts/{ACCOUNT}")
    assert page.status_code == 200 and 'id="payment"' not in page.text


def test_scrub_rules_show_their_evidence_and_accepting_publishes_a_decision(login, seeded, services):
    client = login("denials")
    page = client.get("/rules")
    assert "AETNA/197/99213" in page.text and "DEN-7001" in page.text and "$600.00" in page.text
    eid = event_id_of(client.post("/rules/decide", data={
        "csrf": hidden(page.text, "csrf"), "action_id": hidden(page.text, "action_id"),
        "rule_id": "AETNA/197/99213", "verdict": "ACCEPT"}))
    [event] = find_event(services.bootstrap, T.SCRUB_RULE_DECISIONS, eid)
    assert (event["rule_id"], event["decision"], event["decided_by"], event["role"]) == (
        "AETNA/197/99213", "ACCEPT", "denials1", "DENIALS")
    unknown = client.post("/rules/decide", data={
        "csrf": hidden(page.text, "csrf"), "action_id": hidden(page.text, "action_id"),
        "rule_id": "X/1/2", "verdict": "ACCEPT"})
    assert unknown.status_code == 400 and "No such proposed rule" in unknown.text


def test_held_claims_show_their_edits(login, seeded):
    client = login("coder")
    page = client.get("/held")
    assert "CLM-7001" in page.text and "no prior authorization" in page.text
    claim = client.get("/claims/CLM-7001")
    assert "MISSING_AUTH" in claim.text and "99213" in claim.text


def test_the_review_shows_age_and_sex_and_a_code_that_does_not_fit_them_is_refused(login, seeded):
    client = login("coder")
    page = client.get("/coding/rev-1").text
    assert "patient age 58, sex F" in page
    assert f'hx-get="/codes/check?age=58&amp;sex=F&amp;day={date.today()}"' in page
    assert "male patients only; patient is female" in client.get(
        "/codes/check?codes=N40.0&age=58&sex=F").text
    found = client.get("/codes/search?q=N40.0&age=58&sex=F").text  # the picker marks it too
    assert '<small class="error conflict">(N40.0 is for male patients only; patient is female)' \
        in found
    assert "conflict" not in client.get("/codes/search?q=N40.0&age=58&sex=M").text
    response = client.post("/coding/rev-1/decide", data={
        "csrf": hidden(page, "csrf"), "action_id": hidden(page, "action_id"), "codes": "N40.0"})
    assert response.status_code == 400
    assert "dx 1: N40.0 is for male patients only; patient is female" in response.text


def test_a_held_claims_correction_is_a_coding_decision_naming_it_and_shows_the_rebuilt_claim(
        login, seeded, services):
    client = login("coder")
    page = client.get("/claims/CLM-7001").text
    assert 'id="correction"' in page and "Patient age 34, sex M" in page
    form = {"csrf": hidden(page, "csrf"), "action_id": hidden(page, "action_id")}
    same = client.post("/claims/CLM-7001/correct", data=form | {"codes": "J02.9"})
    assert same.status_code == 400 and "the claim&#39;s codes already" in same.text
    wrong = client.post("/claims/CLM-7001/correct", data=form | {"codes": "N83.201"})
    assert wrong.status_code == 400 and "female patients only; patient is male" in wrong.text
    eid = event_id_of(client.post("/claims/CLM-7001/correct", data=form | {"codes": "j02.0 R50.9"}))
    assert eid.startswith("console:recode:")
    [decision] = find_event(services.bootstrap, T.CODING_DECISIONS, eid)
    assert (decision["corrects_claim_id"], decision["encounter_id"], decision["account_id"]) == (
        "CLM-7001", "E7000", ACCOUNT)
    assert [d["code"] for d in decision["diagnoses"]] == ["J02.0", "R50.9"]
    assert 'data-state="pending"' in client.get(f"/actions/recode/{eid}").text
    # the pipeline rebuilt the claim from it: version 2, sourced by the decision
    seeded.execute("""insert into claim_versions (version_id, claim_id, version, frequency_code,
                          payer_sequence, account_id, payer_id, status, total_charge_cents,
                          built_at, event_id, source_event_id, encounter_id, service_end)
                      values ('CLM-7001:v2', 'CLM-7001', 2, '1', 'PRIMARY', %s, 'AETNA', 'CLEAN',
                              20000, now(), %s, %s, 'E7000', current_date)""", (ACCOUNT, f"{eid}:claim:v2", eid))
    outcome = client.get(f"/actions/recode/{eid}").text
    assert 'data-state="applied"' in outcome
    assert re.search(r'rebuilt as version <span class="version">2</span>: '
                     r'<strong class="rebuilt-status">CLEAN</strong>', outcome)
    assert seeded.rows("select target, event_id, outcome from console_audit "
                       "where action = 'claim_correction'") == [
        {"target": "CLM-7001", "event_id": eid, "outcome": "published"}]


def test_a_correction_without_the_csrf_token_is_refused_and_one_the_pipeline_refuses_says_why(
        login, seeded, services):
    client = login("coder")
    page = client.get("/claims/CLM-7001").text
    forged = client.post("/claims/CLM-7001/correct", data={
        "action_id": hidden(page, "action_id"), "codes": "J02.0"})
    assert forged.status_code == 400 and "did not come from the console" in forged.text
    eid = event_id_of(client.post("/claims/CLM-7001/correct", data={
        "csrf": hidden(page, "csrf"), "action_id": hidden(page, "action_id"), "codes": "J02.0"}))
    [decision] = find_event(services.bootstrap, T.CODING_DECISIONS, eid)
    reason = "the coding stage holds no coded encounter to correct"
    seeded.execute("""insert into dead_letters (event_id, source_topic, source_partition,
                          source_offset, stage, error, reason, payload, dead_lettered_at)
                      values ('coding-decisions:0:12:coding', 'coding-decisions', 0, 12, 'coding',
                              'INVALID', %s, %s, now())""",
                   (reason, codec.encode(T.CODING_DECISIONS.value_schema, decision)))
    outcome = client.get(f"/actions/recode/{eid}").text
    assert 'data-state="refused"' in outcome and reason in outcome
    assert 'href="/claims/CLM-7001"' in outcome  # back to the claim


def test_a_biller_sees_a_held_claim_but_sends_no_coding_correction(login, seeded):
    client = login("biller")
    page = client.get("/claims/CLM-7001").text
    assert "MISSING_AUTH" in page and 'id="correction"' not in page and "Patient age" not in page
    response = client.post("/claims/CLM-7001/correct", data={
        "csrf": hidden(page, "csrf"), "action_id": "0" * 32, "codes": "J02.0"})
    assert response.status_code == 403


def test_kpis_for_an_analyst_have_charts_and_csv_but_no_account_rows(login, seeded):
    client = login("analyst")
    page = client.get("/kpis")
    assert page.status_code == 200
    assert 'id="chart-aging"' in page.text and "clean claim rate" in page.text
    assert "built-in method" not in page.text
    assert ACCOUNT not in page.text
    csv = client.get("/kpis/denials_by_category.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["category,denials,amount_cents", "AUTHORIZATION,1,12000"]
    assert client.get("/kpis/nothing.csv").status_code == 404
    # each KPI as rcm report shows it: the day, the 30 days, the parts (money in dollars)
    row = re.search(r'<tr data-kpi="remittance_denial_rate_dollars">(.*?)</tr>', page.text,
                    re.DOTALL)[1]
    assert re.findall(r"<td[^>]*>(?:<small>)?([^<]*)", row)[:3] == ["60.0%", "60.0%",
                                                                    "$120.00 / $200.00"]
    assert "$200.00 / $200.00" in re.search(r'<tr data-kpi="net_days_in_ar">(.*?)</tr>',
                                            page.text, re.DOTALL)[1]
    assert "{'numerator'" not in page.text
    kpis = client.get("/kpis/kpis.csv").text.splitlines()
    assert kpis[0] == "kpi,window,numerator,denominator,value,unit,definition"
    assert ("remittance_denial_rate_dollars,ROLLING_30D,12000,20000,0.6,RATIO,"
            "denied cents of those claims / total charge cents of those claims") in kpis


def test_the_aging_charts_carry_the_databases_integer_cents(login, seeded):
    page = login("analyst").get("/kpis").text
    charts = json.loads(html.unescape(re.search(r'data-charts="([^"]*)"', page)[1]))
    rows = seeded.rows("""select payer_id, responsibility, bucket, open_cents
                            from ar_aging_summary_as_of(kpi_event_day())""")
    buckets = charts["aging"]["labels"]
    by_resp: dict = {}
    by_payer: dict = {}  # rows by payer have no responsibility (a self-pay row, no payer either)
    for r in rows:
        table, key = ((by_payer, r["payer_id"]) if r["responsibility"] is None
                      else (by_resp, r["responsibility"]))
        table.setdefault(key, {})[r["bucket"]] = r["open_cents"]
    assert charts["aging"]["series"] == {
        resp: [cents.get(b, 0) for b in buckets] for resp, cents in by_resp.items()}
    assert charts["payers"]["series"] == {
        b: [by_payer[p].get(b, 0) for p in charts["payers"]["labels"]] for b in buckets}
    # the seeded ledger: $170.00 open with the insurer, $30.00 with the patient
    assert {r: sum(v) for r, v in charts["aging"]["series"].items()} == {
        "insurance": 17000, "patient": 3000}
    assert all(type(c) is int for series in (charts["aging"]["series"], charts["payers"]["series"])
               for values in series.values() for c in values)


def test_the_pipeline_page_reads_the_broker_and_dead_letters_without_account_rows(login, seeded):
    seeded.execute("""insert into dead_letters (event_id, source_topic, source_partition,
                          source_offset, stage, error, reason, payload, dead_lettered_at)
                      values ('payments:2:41:ledger', 'payments', 2, 41, 'ledger', 'INVALID',
                              'amount_cents must be positive', '\\x00', now())""")
    client = login("ops")
    page = client.get("/ops")
    assert page.status_code == 200
    assert "coding-decisions" in page.text  # a registry topic, from the real broker
    assert "amount_cents must be positive" in page.text and ACCOUNT not in page.text
    assert 'hx-get="/ops/live"' in page.text
    assert re.search(r"denied open</td><td class=\"num\">1</td><td class=\"num\">\$120\.00", page.text)
    detail = client.get("/ops/dead-letters", params={"topic": "payments",
                                                     "reason": "amount_cents must be positive"})
    assert "payments:2:41:ledger" in detail.text and ">41<" in detail.text
