"""Files of HL7 messages: split by MSH, blank lines or MLLP framing; bad messages named precisely."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from infra.settings import load
from producers.hl7.cli import produce, read
from producers.hl7.files import split_messages
from tests import factories as F
from tests.support import hl7_compose as compose

ENC = F.encounter(6) | {"procedures_pcs": [], "discharge_status": None}


def messages() -> list[str]:
    return [compose.adt(ENC, "REGISTER", "C1", F.T0), compose.dft(ENC, "C2", F.T0),
            compose.adt(ENC, "DISCHARGE", "C3", F.T0)]


def test_messages_split_on_msh_and_mllp_frames_whatever_the_line_ending():
    a, b, c = messages()
    data = (a.replace("\r", "\r\n") + "\n" + b.replace("\r", "\n")
            + "\x0b" + c + "\x1c\r").encode()
    split = split_messages(data)
    assert [m.number for m in split] == [1, 2, 3]
    assert [m.text for m in split] == [a.strip("\r"), b.strip("\r"), c.strip("\r")]
    assert split[0].line == 1 and split[1].line == a.count("\r") + 2


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n", "\r\r\n", "\n\n"])
def test_blank_lines_inside_a_message_do_not_cut_it_in_two(ending):
    a, b, _ = messages()
    split = split_messages((a + b).replace("\r", ending).encode())
    assert [m.text for m in split] == [a.strip("\r"), b.strip("\r")]


def test_a_utf8_bom_is_dropped_at_the_start_and_where_files_were_concatenated(tmp_path):
    a, b, c = messages()
    bom = b"\xef\xbb\xbf"
    path = tmp_path / "feed.hl7"
    path.write_bytes(bom + a.encode() + bom + b.replace("\r", "\r\n").encode() + c.encode())
    r = read([str(path)], F.T0)
    events, dead, errors = r.events, r.dead, r.errors
    assert (dead, errors) == ([], [])
    assert [e["event_id"] for e in events] == [f"hl7v2:GENHOSP:C{n}" for n in (1, 2, 3)]
    assert events[1]["charges"][0]["unit_price_cents"] == 14500
    utf16 = tmp_path / "utf16.hl7"
    utf16.write_bytes(a.encode("utf-16"))  # with its BOM, as Windows tools write it
    assert [e["account_id"] for e in read([str(utf16)], F.T0).events] == [ENC["account_id"]]


def test_batch_envelopes_are_skipped_and_orphan_lines_are_a_message_of_their_own():
    a, b, _ = messages()
    data = "FHS|^~\\&\rBHS|^~\\&\rPID|1\r" + a + b + "BTS|2\rFTS|1\r"
    split = split_messages(data)
    assert [m.text[:3] for m in split] == ["PID", "MSH", "MSH"]


def test_a_file_with_bad_messages_still_yields_the_good_ones_and_names_each_bad_one(tmp_path):
    a, _, c = messages()
    truncated = a.replace("|C1|", "|C5|")[: a.index("PV1|")]  # an ADT cut off after PID
    bad_account = a.replace(ENC["account_id"], "4" * 51).replace("|C1|", "|C4|")
    path = tmp_path / "adt.hl7"
    path.write_text(a + truncated + "\n" + bad_account + c)
    r = read([str(path)], F.T0)
    events, dead, errors = r.events, r.dead, r.errors
    assert [e["event_id"] for e in events] == ["hl7v2:GENHOSP:C1", "hl7v2:GENHOSP:C3"]
    assert errors == [
        f"{path}:message 2 (line 7): PV1: segment missing (required in ADT^A04; a truncated message?)",
        f"{path}:message 3 (line 12): PID-18: account id is longer than 50 characters"]
    assert [(d["stage"], d["error"], d["source_topic"]) for d in dead] == [
        ("hl7_adapter", "INVALID", "visit-events")] * 2
    assert dead[1]["event_id"] == "hl7v2:GENHOSP:C4:hl7_adapter"
    assert dead[0]["payload"] == truncated.strip("\r").encode()
    assert ENC["account_id"] not in " ".join(errors) + " ".join(d["reason"] for d in dead)


def test_dry_run_prints_events_and_dead_letters_as_json_lines_like_the_other_adapters(tmp_path,
                                                                                     capsys):
    a, _, _ = messages()
    person = a.replace("ADT^A04", "ADT^A28").replace("|C1|", "|C8|")
    oru = "MSH|^~\\&|X|GENHOSP|R|R|20260302||ORU^R01|C9|P|2.5\r"
    path = tmp_path / "adt.hl7"
    path.write_text(a + person + oru)

    args = SimpleNamespace(files=[str(path)], dry_run=True)
    assert produce(args, load()) == 1
    out, err = capsys.readouterr()
    event, dead = (json.loads(line) for line in out.splitlines())
    assert (event["topic"], event["key"]) == ("visit-events", ENC["account_id"])
    assert (event["value"]["kind"], event["value"]["event_id"]) == ("REGISTER", "hl7v2:GENHOSP:C1")
    assert (dead["topic"], dead["key"]) == ("dead-letters", "visit-events")
    assert dead["value"]["event_id"] == "hl7v2:GENHOSP:C9:hl7_adapter"
    assert dead["value"]["stage"] == "hl7_adapter" and dead["value"]["error"] == "MALFORMED"
    assert dead["value"]["payload"] == oru.strip("\r")
    assert "message 3 (line 13): MSH-9: unsupported message type ORU^R01" in dead["value"]["reason"]
    assert "message 3 (line 13): MSH-9: unsupported message type ORU^R01" in err
    assert "1 visit events, 1 messages ignored (ADT events and BAR^P02 with nothing to bill), 1 messages refused" in err
    args.files = [str(tmp_path / "missing.hl7")]
    assert produce(args, load()) == 1
