"""`rcm code` and `rcm eval coding` through the `rcm` dispatcher."""
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli import main
from processors.coding import cli
from processors.coding.coder import Suggestion


def Guess(code: str | None, confidence: float, evidence: str = "", reason: str = "") -> Suggestion:
    return Suggestion(code, confidence, evidence, reason)


class FakeCoder:
    """Answers by keyword, and remembers what it was asked."""

    def __init__(self):
        self.calls = []

    def code(self, text, age=None, sex="U"):
        self.calls.append((text, age, sex))
        if text.startswith("denies"):
            return Guess(None, 0.0, text, "negated: the statement rules the condition out")
        if "OA" in text:
            return Guess("M17.12", 0.93, "left -> laterality; knee -> site", "matched M17.12")
        return Guess("R69", 0.40, text, "low confidence")


@pytest.fixture
def fake(monkeypatch):
    coder = FakeCoder()
    monkeypatch.setattr(cli, "_coder", lambda releases_folder: coder)
    monkeypatch.setenv("RCM_CODING_THRESHOLD", "0.80")
    return coder


def _jsonl(monkeypatch, capsys, lines, *extra):
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
    rc = main(["code", "--jsonl", *extra])
    return rc, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_single_statements_print_one_line_each(fake, capsys):
    assert main(["code", "L knee OA; denies chest pain", "vague thing", "--age", "67",
                 "--sex", "f", "--date", "2026-03-01"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("[auto] L knee OA -> M17.12 (0.93) | evidence: left -> laterality; "
                      "knee -> site | matched M17.12")
    assert out[1].startswith("[review] denies chest pain -> no code | ") and "negated" in out[1]
    assert out[2].startswith("[review] vague thing -> R69 (0.40)")
    assert fake.calls[0] == ("L knee OA", 67, "F")


def test_threshold_comes_from_the_setting_and_the_flag_overrides_it(fake, capsys, monkeypatch):
    monkeypatch.setenv("RCM_CODING_THRESHOLD", "0.95")
    main(["code", "L knee OA"])
    assert capsys.readouterr().out.startswith("[review]")
    main(["code", "L knee OA", "--threshold", "0.9"])
    assert capsys.readouterr().out.startswith("[auto]")


def test_jsonl_round_trip_keeps_going_past_a_malformed_line(fake, capsys, monkeypatch):
    rc, out = _jsonl(monkeypatch, capsys, [
        json.dumps({"id": "a", "text": "R knee OA", "age": 70, "sex": "M", "date": "2026-01-02"}),
        '{"id": "b", "text": ',                                   # not JSON
        json.dumps({"id": "c", "text": "denies SOB"}),
        "",                                                        # blank lines are skipped
        json.dumps({"id": "d", "text": "something odd", "age": "old"}),
        json.dumps({"id": 5, "text": "weird"}),
        json.dumps(["not", "an", "object"]),
    ])
    assert rc == 0
    assert out[0] == {"id": "a", "codes": [{"code": "M17.12", "confidence": 0.93}],
                      "review": False}
    assert out[1]["id"] is None and "error" in out[1]
    assert out[2] == {"id": "c", "codes": [], "review": True,
                      "reason": "negated: the statement rules the condition out"}
    assert out[3] == {"id": "d", "error": "'age' must be an integer 0..125"}
    assert out[4] == {"id": 5, "codes": [{"code": "R69", "confidence": 0.4}], "review": True,
                      "reason": "low confidence"}
    assert out[5] == {"id": None, "error": "a line must be a JSON object"}
    assert len(out) == 6 and fake.calls[0] == ("R knee OA", 70, "M")


def test_jsonl_fails_only_when_every_line_fails(fake, capsys, monkeypatch):
    rc, out = _jsonl(monkeypatch, capsys, ['{"id": "x"}', "nonsense"])
    assert rc == 1 and [o["id"] for o in out] == ["x", None]
    assert _jsonl(monkeypatch, capsys, [])[0] == 0


def test_code_without_statements_is_a_usage_error(fake, capsys):
    assert main(["code"]) == 2


def test_eval_coding_prints_the_report(fake, capsys, tmp_path):
    devset = tmp_path / "dev.jsonl"
    devset.write_text("\n".join(json.dumps(r) for r in [
        {"id": "1", "text": "L knee OA", "age": 60, "sex": "F", "gold": ["M17.12"], "tags": ["a"]},
        {"id": "2", "text": "denies CP", "age": 60, "sex": "F", "gold": [], "tags": ["neg"]},
        {"id": "3", "text": "odd", "age": 60, "sex": "F", "gold": ["R51.9"], "tags": ["a"]},
    ]))
    assert main(["eval", "coding", "--devset", str(devset), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["full_code"]["tp"] == 1 and report["full_code"]["fn"] == 1
    assert report["auto_coded"]["count"] == 1 and report["worst_misses"][0]["id"] == "3"
    assert main(["eval", "coding", "--devset", str(devset)]) == 0
    assert "auto-coded       1/3" in capsys.readouterr().out


def test_the_command_module_loads_neither_faust_nor_kafka():
    code = ("import sys, infra.cli, processors.coding.cli, processors.coding.coder; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'faust', 'kafka', 'aiokafka'}))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=root)
    assert out.stdout.strip() == "[]"


def test_real_coder_codes_a_statement_end_to_end(capsys):
    assert main(["code", "L knee OA", "--age", "60", "--sex", "F", "--threshold", "0.5"]) == 0
    assert "M17.12" in capsys.readouterr().out


def test_code_and_eval_follow_the_date_of_service(capsys, tmp_path):
    assert main(["code", "plantar fasciitis", "--date", "2026-09-30"]) == 0
    assert "[auto] plantar fasciitis -> M72.2 (1.00)" in capsys.readouterr().out
    assert main(["code", "plantar fasciitis", "--date", "2026-10-01"]) == 0
    assert "M72.2 was deleted in ICD-10-CM FY2027" in capsys.readouterr().out
    devset = tmp_path / "dev.jsonl"
    devset.write_text(json.dumps({"id": "1", "text": "plantar fasciitis", "age": 50, "sex": "F",
                                  "gold": ["M72.2"], "tags": []}) + "\n")
    for day, tp in (("2026-09-30", 1), ("2026-10-01", 0)):
        assert main(["eval", "coding", "--devset", str(devset), "--json", "--date", day]) == 0
        assert json.loads(capsys.readouterr().out)["full_code"]["tp"] == tp
