"""The console in real headless Chromium (Debian's chromium + chromedriver, driven by Selenium) on
the real broker and database with the processor and the sink running: log in (keyboard only),
work a coding review to release and see the claim, correct a held claim and see it rebuilt,
a refused appeal step with the pipeline's
reason, file and win an appeal, accept a scrub rule, post a payment and see the balance change,
and a denied page for the wrong role. Screenshots go to tests/console/artifacts/."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra import pipeline, report
from producers.publish import publish
from schemas import codec
from schemas import topics as T
from schemas.accounts import make_account_id
from schemas.envelope import Outgoing
from tests import factories as F

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).parent / "artifacts"
NOW = datetime.now(UTC)
TODAY = NOW.date()
PASSWORD = "browser test password"
RULE = "COMM-ACME/50/99213"


def out(topic: T.Topic, rec: dict) -> Outgoing:
    return Outgoing(topic, codec.key_of(topic, rec), codec.encode(topic.value_schema, rec))


def encounter(n: int, **kw) -> dict:
    """A factory encounter on today's date (appeal deadlines run from the denial date)."""
    enc = F.encounter(n, **kw)
    enc.update(occurred_at=NOW, emitted_at=NOW, service_start=TODAY, service_end=TODAY)
    enc["charges"] = [{**c, "service_date": TODAY} for c in enc["charges"]]
    return enc


def remittance(n: int, **kw) -> dict:
    return {**F.remittance(n, **kw), "occurred_at": NOW, "emitted_at": NOW}


def denied(n: int) -> dict:
    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", "50", 14500)], "remarks": []}
    return remittance(n, lines=[line], status="4")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rcm(settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], input=stdin, text=True,
                          capture_output=True, env=pipeline.child_env(settings), timeout=120,
                          check=False)


def wait_http(url: str, service, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert service.alive(), service.tail()
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the console did not answer at {url}:\n{service.tail()}")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, "Debian's chromium and chromium-driver: `make test` installs them"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1100", "--disable-extensions"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(0)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


class Page:
    def __init__(self, driver, base: str):
        self.d, self.base = driver, base

    def go(self, path: str) -> None:
        self.d.get(self.base + path)

    def shot(self, name: str) -> None:
        """The whole page (the window grows to the document, up to 2400 px), as a PNG."""
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(1400, max(900, min(int(height) + 120, 2400)))
        self.d.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        self.d.set_window_size(1400, 1100)

    def wait(self, css: str, text: str | None = None, timeout: float = 180.0):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def found(d):
            for el in d.find_elements(By.CSS_SELECTOR, css):
                if text is None or text in el.text:
                    return el
            return False
        # an element found while the page is being replaced (a redirect after a form) goes stale
        # before its text is read: look again at the next poll
        return WebDriverWait(self.d, timeout, poll_frequency=0.5,
                             ignored_exceptions=(StaleElementReferenceException,)).until(
            found, f"{css} {text or ''} on {self.d.current_url}")

    def one(self, css: str, within=None):
        from selenium.webdriver.common.by import By

        return (within or self.d).find_element(By.CSS_SELECTOR, css)

    def log_in(self, name: str) -> None:
        from selenium.webdriver.common.keys import Keys

        self.go("/login")
        field = self.wait("#username")
        # keyboard only: the user name field has the focus, Tab reaches the password, Enter sends
        field.send_keys(name)
        self.d.switch_to.active_element.send_keys(Keys.TAB, PASSWORD, Keys.ENTER)
        self.wait("h1", f"Welcome, {name}")

    def log_out(self) -> None:
        self.one("form.who button").click()
        self.wait("#username")

    def outcome(self, state: str):
        return self.wait(f'#outcome[data-state="{state}"]')

    def step(self, denial_id: str, action: str) -> None:
        from selenium.webdriver.support.ui import Select

        self.go("/denials")
        row = self.wait(f'tr[data-denial="{denial_id}"]')
        Select(self.one("select[name=action]", row)).select_by_value(action)
        self.one("button[type=submit]", row).click()


def test_staff_work_the_pipeline_through_the_browser(services, fresh_topics, database_url,
                                                     tmp_path, browser):
    settings = replace(services.settings, kafka_bootstrap_servers=fresh_topics,
                       database_url=database_url, app_id=f"rcm-console-{tmp_path.name[-8:]}",
                       sink_group=f"rcm-sink-console-{tmp_path.name[-8:]}",
                       processor_metrics_port=free_port(), sink_metrics_port=free_port(),
                       home=tmp_path, log_level="INFO", scrub_rule_threshold=3)
    logs, dsn, port = tmp_path / "logs", database_url, free_port()
    for name, role in (("cora", "coder"), ("dana", "denials"), ("bill", "biller"), ("otto", "ops")):
        added = rcm(settings, "users", "add", name, "--role", role, stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    processor = pipeline.rcm_service("process", settings, logs).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    console = pipeline.rcm_service("console", settings, logs, "--port", str(port)).start()
    try:
        publish([out(T.ENCOUNTERS, encounter(1, diagnoses=[
                    {"sequence": 1, "text": "feeling off", "code": None}]))]
                + [out(T.ENCOUNTERS, encounter(n)) for n in (2, 3, 4, 5)]
                + [out(T.ENCOUNTERS, encounter(6, diagnoses=[  # the source's code: a man's
                    {"sequence": 1, "text": "urinary urgency", "code": "N40.1"}]))],
                settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
        publish([out(T.REMITTANCES, denied(n)) for n in (2, 3, 4)]
                + [out(T.REMITTANCES, remittance(5))], settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
        denials = dict(report.query(dsn, "select account_id, denial_id from denials"))
        assert len(denials) == 3
        [(patient_before,)] = report.query(dsn, "select patient_cents from account_balances "
                                                "where account_id = %s", (make_account_id(5),))
        assert patient_before == 2000
        wait_http(f"http://127.0.0.1:{port}/login", console)
        page = Page(browser, f"http://127.0.0.1:{port}")
        work_in_the_browser(page, denials, dsn)
    finally:
        for service in (console, processor, sink):
            service.stop()


def work_in_the_browser(page: Page, denials: dict[str, str], dsn: str) -> None:
    from selenium.webdriver.common.by import By

    # log in; a coder works a review to release and sees the claim
    page.go("/login")
    page.wait("#username")
    page.shot("login")
    page.log_in("cora")
    page.go("/coding")
    page.wait("#coding-queue", "E0000001")
    page.shot("coding-queue")
    page.one("#coding-queue a").click()
    page.wait("#statements", "feeling off")
    assert "patient age 54, sex F" in page.one("#patient").text  # what the age/sex edits check
    page.one("#codes").clear()  # the suggestion (a low-confidence Z65.8) is not what we bill
    page.one("#code-q").send_keys("fatigue")
    page.wait('#code-results button[data-code="R53.83"]').click()
    assert "Billable, no conflicts found." in page.wait("#code-check", "R53.83 Other fatigue").text
    assert page.one("#codes").get_attribute("value") == "R53.83"
    page.shot("coding-review")
    page.one("#decision button[type=submit]").click()
    applied = page.wait("#results a", timeout=240)
    page.shot("coding-released")
    claim_id = applied.text
    applied.click()
    page.wait("#claim-status", "CLEAN")
    assert report.query(dsn, "select diagnosis_codes from claims where claim_id = %s",
                        (claim_id,)) == [(["R53.83"],)]
    page.go("/coding")
    page.wait("#coding-queue", "The queue is empty.")

    # a held claim (a man's code on a woman's claim): the coder sends a coding correction and
    # sees the rebuilt claim, version 2, clean
    held = "CLM-E0000006"
    page.go("/held")
    page.wait("#held-claims", "SEX_CONFLICT")
    page.shot("held")
    page.one(f'#held-claims a[href="/claims/{held}"]').click()
    page.wait("#claim-status", "HELD")
    assert "Patient age 54, sex F" in page.one("#patient").text
    page.one("#code-q").send_keys("N40")  # the picker marks what does not fit this patient
    page.wait("#code-results .conflict", "N40.1 is for male patients only; patient is female")
    page.one("#codes").clear()
    page.one("#codes").send_keys("N40.1")
    page.wait("#code-check", "for male patients only; patient is female")
    page.one("#codes").clear()
    page.one("#code-q").clear()
    page.one("#code-q").send_keys("urgency of urination")
    page.wait('#code-results button[data-code="R39.15"]').click()
    page.wait("#code-check", "Billable, no conflicts found.")
    page.shot("held-correction")
    page.one("#correction button[type=submit]").click()
    rebuilt = page.wait("#results", "rebuilt as version 2", timeout=240)
    assert "CLEAN" in rebuilt.text
    page.one("#results a").click()
    page.wait("#claim-status", "CLEAN")
    assert page.one("#claim-version").text == "2"
    page.wait("#versions", "SEX_CONFLICT")  # version 1 keeps its edit
    page.shot("held-rebuilt")
    assert report.query(dsn, "select version, status, diagnosis_codes from claims "
                             "where claim_id = %s", (held,)) == [(2, "CLEAN", ["R39.15"])]

    # the wrong role: a coder may not open an account
    page.go(f"/accounts/{make_account_id(5)}")
    page.wait("#denied", "may not use this page")
    page.shot("denied")
    page.log_out()

    # a denials specialist: a step out of order is refused with the pipeline's reason; then an
    # appeal is filed and won; then a proposed scrub rule is accepted
    page.log_in("dana")
    page.go("/denials")
    page.wait("#denials", denials[make_account_id(2)])
    page.shot("denials")
    den = denials[make_account_id(2)]
    page.step(den, "OVERTURNED")
    page.outcome("refused")
    reason = page.one("#reason").text
    assert "OVERTURNED needs a filed appeal; the denial is OPEN" in reason
    page.shot("appeal-refused")
    page.step(den, "FILED")
    page.wait("#results", "appealed")
    page.step(den, "OVERTURNED")
    page.wait("#results", "overturned")
    assert report.query(dsn, "select status from denials where denial_id = %s", (den,)) == [
        ("overturned",)]
    page.go("/rules")
    row = page.wait(f'tr[data-rule="{RULE}"]')
    page.shot("scrub-rules")
    page.one('button[value="ACCEPT"]', row).click()
    page.wait("#results", "ACTIVE")
    page.log_out()

    # a biller posts a patient payment and sees the balance change
    page.log_in("bill")
    account = make_account_id(5)
    page.go(f"/accounts/{account}")
    page.wait("#patient", "$20.00")
    page.one("#amount").send_keys("12.50")
    page.one("#payment button[type=submit]").click()
    page.wait("#results", "patient balance $7.50")
    page.go(f"/accounts/{account}")
    page.wait("#patient", "$7.50")
    page.shot("account")
    page.log_out()

    # ops: the live pipeline page and the KPI charts, with no account-level rows
    page.log_in("otto")
    page.go("/ops")
    page.wait("#topics", "coding-decisions")
    for service in ("processor", "sink"):  # their /readyz, as `rcm status` reads it
        page.wait(f'#health tr[data-service="{service}"] .ok', "ready")
    page.shot("pipeline")
    assert account not in page.d.page_source
    page.go("/kpis")
    page.wait("#chart-aging")
    time.sleep(1)  # let Chart.js draw before the screenshot
    page.shot("kpis")
    assert page.d.find_elements(By.CSS_SELECTOR, "canvas")[0].size["height"] > 0
    assert account not in page.d.page_source
    # the aging chart holds the database's integer cents and shows dollars only on its axis
    drawn = page.d.execute_script("""const c = Chart.getChart("chart-aging");
        const bars = Chart.getChart("chart-categories");
        return {data: Object.fromEntries(c.data.datasets.map(d => [d.label, d.data])),
                ticks: c.scales.y.ticks.map(t => t.label), shown: dollars(123456),
                categories: bars.scales.y.ticks.map(t => t.label),
                counts: bars.data.datasets[0].data, counted: bars.scales.x.ticks.map(t => t.label),
                rates: Chart.getChart("chart-daily").scales.y.ticks.map(t => t.label)};""")
    open_cents = dict(report.query(dsn, """select responsibility, sum(open_cents)::bigint
                                             from ar_aging_summary_as_of(kpi_event_day())
                                            where payer_id is null group by 1"""))
    assert {r: sum(v) for r, v in drawn["data"].items()} == open_cents
    assert all(type(c) is int for v in drawn["data"].values() for c in v)
    assert drawn["shown"] == "$1,234.56" and len(drawn["ticks"]) > 1
    assert all(re.fullmatch(r"-?\$\d{1,3}(,\d{3})*\.\d{2}", t) for t in drawn["ticks"]), drawn
    # denials by category: horizontal bars (categories on the y axis), whole counts on the x axis
    by_category = report.query(dsn, """select category, count(*) from denials group by category
                                        order by sum(amount_cents) desc, category""")
    assert list(zip(drawn["categories"], drawn["counts"], strict=True)) == by_category
    assert all(t.isdigit() for t in drawn["counted"]), drawn
    assert drawn["rates"][0] == "0%" and drawn["rates"][-1] == "100%", drawn
