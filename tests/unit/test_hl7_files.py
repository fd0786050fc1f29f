"""Files of HL7 messages: split by MSH, blank lines or MLLP framing; bad messages named precisely."""
from __future__ import annotations

import json
from types import SimpleNamespace

from producers.hl7 import compose
from producers.hl7.cli import cmd_produce, read
from producers.hl7.files import split_messages
from tests import factories as F

ENC = F.encounter(6) | {"procedures_pcs": [], "discharge_status": None}


def messages() -> list[str]:
    return [compose.adt(ENC, "REGISTER", "C1", F.T0), compose.dft(ENC, "C2", F.T0),
            compose.adt(ENC, "DISCHARGE", "C3", F.T0)]


def test_messages_split_on_msh_blank_lines_and_mllp_frames_whatever_the_line_ending():
    a, b, c = messages()
    data = (a.replace("\r", "\r\n") + "\n" + b.replace("\r", "\n")
            + "\x0b" + c + "\x1c\r").encode()
    split = split_messages(data)
    assert [m.number for m in split] == [1, 2, 3]
    assert [m.text for m in split] == [a.strip("\r"), b.strip("\r"), c.strip("\r")]
    assert split[0].line == 1 and split[1].line == a.count("\r") + 2


def test_batch_envelopes_are_skipped_and_orphan_lines_are_a_message_of_their_own():
    a, b, _ = messages()
    data = "FHS|^~\\&\rBHS|^~\\&\rPID|1\r" + a + b + "BTS|2\rFTS|1\r"
    split = split_messages(data)
    assert [m.text[:3] for m in split] == ["PID", "MSH", "MSH"]


def test_a_file_with_bad_messages_still_yields_the_good_ones_and_names_each_bad_one(tmp_path):
    a, b, c = messages()
    truncated = b[: b.index("PV1|")]  # cut off after PID
    bad_account = a.replace(ENC["account_id"], "4" * 51).replace("|C1|", "|C4|")
    path = tmp_path / "adt.hl7"
    path.write_text(a + truncated + "\n" + bad_account + c)
    events, dead, errors = read([str(path)], F.T0)
    assert [e["event_id"] for e in events] == ["hl7v2:GENHOSP:C1", "hl7v2:GENHOSP:C3"]
    assert errors == [
        f"{path}:message 2 (line 7): PV1: segment missing (required in DFT^P03; a truncated message?)",
        f"{path}:message 3 (line 12): PID-18: account id is longer than 50 characters"]
    assert [(d["stage"], d["error"], d["source_topic"]) for d in dead] == [
        ("hl7_adapter", "INVALID", "visit-events")] * 2
    assert dead[1]["event_id"] == "hl7v2:GENHOSP:C4:hl7_adapter"
    assert dead[0]["payload"] == truncated.strip("\r").encode()


def test_dry_run_prints_json_lines_and_exits_non_zero_when_a_message_was_bad(tmp_path, capsys):
    a, _, _ = messages()
    path = tmp_path / "adt.hl7"
    path.write_text(a + "MSH|^~\\&|X|GENHOSP|R|R|20260302||ADT^A02|C9|P|2.5\r")

    args = SimpleNamespace(files=[str(path)], dry_run=True)
    assert cmd_produce(args) == 1
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert json.loads(line)["value"]["kind"] == "REGISTER"
    assert "message 2 (line 7): MSH-9: unsupported message type ADT^A02" in err
    args.files = [str(tmp_path / "missing.hl7")]
    assert cmd_produce(args) == 1
