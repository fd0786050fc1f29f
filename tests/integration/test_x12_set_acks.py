"""999 results for whole 837 sets (issue 9) on real PostgreSQL: the pipeline's 837 writer records
the files and claims it sent; a 999 answering those files by their control numbers reaches the
database through the adapter and the sink's writer, and first-pass acceptance, the claim status
history and the claims' stage see every claim of a rejected set."""
from __future__ import annotations

from collections import namedtuple
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2
import pytest

from infra.settings import Settings
from producers.x12.cli import convert
from producers.x12.tokens import read as read_x12
from schemas import codec
from schemas import topics as T
from sinks.x12.directory import PlaceholderDirectory
from sinks.x12.service import write_batch as write_837_batch
from tests.integration.test_x12_in_sink import ack, query, store
from tests.integration.test_x12_sink import claim
from tests.unit import x12_fixtures as X

pytestmark = pytest.mark.integration
Message = namedtuple("Message", "topic partition offset value")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ON = date(2026, 3, 3)  # the 999s' GS04


@pytest.fixture
def conn(database_url):
    c = psycopg2.connect(database_url)
    yield c
    c.close()


def send_837s(conn, tmp_path, claims: list[dict]) -> dict[str, tuple[str, ...]]:
    """The X12 sink's batch (no Kafka): 837 files in the outbox, x12_files and x12_claims_sent
    recorded. Returns {837P or 837I: (ISA06, ISA08, GS06, ST02, GS08)} as written in the file."""
    settings = Settings()
    messages = [Message(T.CLAIMS.name, 0, n, codec.encode(T.CLAIMS.value_schema, c))
                for n, c in enumerate(claims)]
    files = write_837_batch(conn, settings, "x12-set-acks",
                            PlaceholderDirectory.from_settings(settings), tmp_path, messages, now=NOW)
    out = {}
    for path in files:
        [tx] = read_x12(path.read_text(), path.name).transactions
        out[path.name[:4]] = (tx.isa.el(6).strip(), tx.isa.el(8).strip(), tx.gs.el(6),
                              tx.control, tx.gs.el(8))
    return out


def answer(envelope: tuple[str, ...], code: str, inside: list | None = None) -> list[dict]:
    """The 999 a clearinghouse returns for one 837 set (to its sender, from its receiver)."""
    sender, receiver, gs06, st02, version = envelope
    set_loop = [("AK2", "837", st02, version), *(inside or []), ("IK5", code)]
    n_ok = int(code in ("A", "E"))
    text = X.ack_999([set_loop], ("AK9", "A" if n_ok else "R", "1", "1", str(n_ok)),
                     answered_group=gs06, answered_version=version, on=ON.strftime("%Y%m%d"),
                     gs_sender=receiver, gs_receiver=sender, sender=receiver, receiver=sender)
    result = convert(text, "ack.999", NOW)
    assert result.errors == []
    return [codec.decode_for(r.topic, r.value) for r in result.records if r.topic == T.CLAIM_STATUS]


def test_a_999_rejecting_an_837_set_as_a_whole_rejects_every_claim_the_set_carried(
        conn, database_url, tmp_path):
    professional = [claim(1), claim(2), claim(3)]
    institutional = [claim(4, "INSTITUTIONAL")]
    store(conn, T.CLAIMS, professional + institutional)
    sent = send_837s(conn, tmp_path, professional + institutional)
    assert sorted(sent) == ["837I", "837P"]
    rcm, house = Settings().x12_sender_id, Settings().x12_receiver_id
    assert sent["837P"][:2] == (rcm, house)

    # the 837P set rejected; the error sits in claim 2 (CTX*CLM01), claims 1 and 3 name nothing
    rejected = answer(sent["837P"], "R", inside=[
        ("IK3", "CLM", "22", "2300", "8"), ("CTX", ("CLM01", "CLM-E0000002")),
        ("IK4", "2", "782", "7", "X")])
    accepted = answer(sent["837I"], "A")
    stranger = answer((rcm, house, "77", "0077", "005010X222A1"), "R")  # a set the pipeline never sent
    store(conn, T.CLAIM_STATUS, rejected + accepted + stranger)
    store(conn, T.CLAIM_STATUS, rejected, start=10)  # a re-sent 999 changes nothing

    gs06, st02 = sent["837P"][2], sent["837P"][3]
    assert query(database_url, """
        SELECT submitter_id, receiver_id, group_control_number, set_control_number, accepted,
               categories, reported_at
          FROM x12_set_acknowledgements ORDER BY group_control_number::int""") == [
        (rcm, house, gs06, st02, False, ["R", "R"], datetime(2026, 3, 3, tzinfo=UTC)),
        (rcm, house, sent["837I"][2], sent["837I"][3], True, ["A"],
         datetime(2026, 3, 3, tzinfo=UTC)),
        (rcm, house, "77", "0077", False, ["R"], datetime(2026, 3, 3, tzinfo=UTC))]
    # the set's claims: 1 and 3 through the set, 2 through its own row (with its errors), once
    files = dict(query(database_url, "SELECT claim_type, file_name FROM x12_files"))
    assert query(database_url, """
        SELECT claim_id, version, accepted, file_name FROM x12_set_acknowledged_claims
         ORDER BY claim_id""") == [
        ("CLM-E0000001", 1, False, files["PROFESSIONAL"]),
        ("CLM-E0000003", 1, False, files["PROFESSIONAL"]),
        ("CLM-E0000004", 1, True, files["INSTITUTIONAL"])]
    assert query(database_url, """
        SELECT claim_id, transaction, accepted, categories, submitter_id, group_control_number,
               set_control_number
          FROM claim_status_events""") == [
        ("CLM-E0000002", "999", False, ["R", "R"], rcm, gs06, st02)]

    # first pass: the three claims of the rejected set are rejected on the 999's day; the
    # accepted set decides nothing (its 277CA does)
    assert query(database_url, "SELECT claim_id, transaction, accepted, reported_at::date "
                               "FROM claim_first_acknowledgements ORDER BY 1") == [
        (f"CLM-E000000{n}", "999", False, ON) for n in (1, 2, 3)]
    store(conn, T.CLAIM_STATUS, [ack("CLM-E0000004", "277CA", True, date(2026, 3, 5), "A1")],
          start=20)
    assert query(database_url, "SELECT numerator, denominator, value FROM kpi_flow_window("
                               "'-infinity', 'infinity') WHERE kpi = 'first_pass_acceptance_rate'"
                 ) == [(1, 4, Decimal("0.2500"))]
    assert query(database_url, "SELECT numerator, denominator FROM kpi_flow_window(%s, %s) "
                               "WHERE kpi = 'first_pass_acceptance_rate'", ON, ON) == [(0, 3)]

    history = query(database_url, "SELECT claim_id, status FROM claim_status_history "
                                  "WHERE step IN (2, 3) ORDER BY claim_id, step, at")
    assert history == [
        ("CLM-E0000001", "SUBMITTED"), ("CLM-E0000001", "SET_REJECTED"),
        ("CLM-E0000002", "SUBMITTED"), ("CLM-E0000002", "SET_REJECTED"),
        ("CLM-E0000003", "SUBMITTED"), ("CLM-E0000003", "SET_REJECTED"),
        ("CLM-E0000004", "SUBMITTED"), ("CLM-E0000004", "SET_ACCEPTED"),
        ("CLM-E0000004", "ACCEPTED")]
    assert query(database_url, "SELECT claim_id, stage FROM claim_stage_as_of(%s) ORDER BY 1",
                 ON) == [("CLM-E0000001", "REJECTED"), ("CLM-E0000002", "REJECTED"),
                         ("CLM-E0000003", "REJECTED"), ("CLM-E0000004", "SUBMITTED")]


def test_a_set_result_stored_before_its_837_was_recorded_still_finds_its_claims(
        conn, database_url, tmp_path):
    """The join is made when read: a 999 that the sink stores before the X12 sink's file record
    commits (two consumers, any order) applies once the record is there."""
    claims = [claim(5), claim(6)]
    store(conn, T.CLAIMS, claims)
    rcm, house = Settings().x12_sender_id, Settings().x12_receiver_id
    early = answer((rcm, house, "1", "0001", "005010X222A1"), "R")  # the first numbers a fresh database issues
    store(conn, T.CLAIM_STATUS, early)
    assert query(database_url, "SELECT count(*) FROM claim_first_acknowledgements") == [(0,)]
    sent = send_837s(conn, tmp_path, claims)
    assert sent["837P"][:4] == (rcm, house, "1", "0001")
    assert query(database_url, "SELECT claim_id, accepted FROM claim_first_acknowledgements "
                               "ORDER BY 1") == [("CLM-E0000005", False), ("CLM-E0000006", False)]


def test_another_senders_set_with_the_same_control_numbers_is_not_ours(conn, database_url, tmp_path):
    claims = [claim(7)]
    store(conn, T.CLAIMS, claims)
    sent = send_837s(conn, tmp_path, claims)
    _, house, gs06, st02, version = sent["837P"]
    store(conn, T.CLAIM_STATUS, answer(("OTHERHOSP", house, gs06, st02, version), "R"))
    assert query(database_url, "SELECT count(*) FROM x12_set_acknowledgements") == [(1,)]
    assert query(database_url, "SELECT count(*) FROM x12_set_acknowledged_claims") == [(0,)]
    assert query(database_url, "SELECT count(*) FROM claim_first_acknowledgements") == [(0,)]
