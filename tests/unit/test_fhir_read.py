"""Reading FHIR files: Bundles, single resources, NDJSON; a bad entry becomes one dead letter with
a precise reason while the good entries of the same file still go through."""
from __future__ import annotations

import json

from producers.fhir.adapter import convert
from producers.fhir.read import read_bytes
from schemas import codec
from tests.factories import encounter
from tests.support import fhir_samples as samples


def decoded(result):
    return [codec.decode_for(r.topic, r.value) | {"_topic": r.topic.name} for r in result.records]


def bundle_text(resources=None):
    return samples.dumps(samples.bundle(resources or samples.encounter_resources(encounter(1))))


def test_a_bundle_with_one_invalid_entry_still_emits_the_others_and_one_dead_letter():
    doc = json.loads(bundle_text())
    doc["entry"].append({"resource": {"resourceType": "Encounter", "id": "broken", "status": "finished",
                                      "class": "IMP", "period": {"start": "yesterday"}}})
    result = convert(read_bytes(json.dumps(doc).encode(), "day1.json"), now_ms=0)
    events = decoded(result)
    assert [e["_topic"] for e in events] == ["visit-events", "visit-events", "dead-letters"]
    assert result.events == 2 and result.dead_letters == 1 and not result.ok
    dead = events[-1]
    assert dead["reason"].startswith("day1.json: entry 6 (Encounter/broken): invalid Encounter: class")
    assert dead["source_topic"] == "visit-events" and dead["source_offset"] == 6
    assert dead["error"] == "INVALID" and dead["stage"] == "fhir_adapter"
    assert json.loads(dead["payload"])["resource"]["id"] == "broken"
    assert "yesterday" not in dead["reason"]  # reasons name fields, never values


def test_an_entry_referencing_an_invalid_resource_is_dead_lettered_too():
    doc = json.loads(bundle_text())
    doc["entry"][0]["resource"]["gender"] = 7  # the Patient
    result = convert(read_bytes(json.dumps(doc).encode(), "b.json"), now_ms=0)
    assert result.events == 1 and result.dead_letters == 2  # Patient, Encounter; the Claim goes through
    assert result.problems[1] == ("b.json: entry 3 (Encounter/E0000001): references Patient/pat-E0000001, "
                                  "which is invalid (b.json: entry 0)")


def test_a_truncated_bundle_keeps_its_whole_entries_and_dead_letters_the_rest():
    text = bundle_text()
    cut = text[:text.index('"resourceType": "Claim"') + 60]  # inside the Claim, the last entry
    result = convert(read_bytes(cut.encode(), "cut.json"), now_ms=0)
    events = decoded(result)
    assert [e.get("kind") for e in events] == ["DISCHARGE", None]
    dead = events[-1]
    assert dead["error"] == "MALFORMED" and dead["source_offset"] == 5
    assert dead["payload"] == cut[cut.index('{"fullUrl": "urn:rcm:Claim'):].encode()
    assert dead["reason"].startswith("cut.json: entry 5: not JSON at line 1 column ")
    assert dead["reason"].endswith("entries 0-4 were read, from entry 5 on the file is this dead letter")


def test_a_broken_file_with_no_whole_entry_is_one_malformed_dead_letter():
    for data in (bundle_text().encode()[:60], b'{"resourceType": "Encounter", "id": "e1", "status": '):
        result = convert(read_bytes(data, "cut.json"), now_ms=0)
        (dead,) = decoded(result)
        assert dead["error"] == "MALFORMED" and dead["payload"] == data and dead["source_offset"] == -1
        assert dead["reason"].startswith("cut.json: file: not JSON at line 1 column ")


def test_a_bundle_broken_after_its_entries_keeps_them_and_reports_the_file():
    text = bundle_text()
    broken = text[:-1] + ', "signature": }'
    result = convert(read_bytes(broken.encode(), "tail.json"), now_ms=0)
    assert result.events == 2 and result.dead_letters == 1
    assert result.problems[0].startswith("tail.json: file: not JSON at line 1")
    assert result.problems[0].endswith("(after its 6 entries, which were read)")


def test_ndjson_keeps_its_good_lines_when_one_is_truncated():
    lines = [samples.dumps(r) for r in samples.encounter_resources(encounter(2))]
    lines[-1] = lines[-1][:50]  # the Claim is cut off
    result = convert(read_bytes("\n".join(lines).encode(), "export.ndjson", ndjson=True), now_ms=0)
    events = decoded(result)
    assert [e.get("kind") for e in events] == ["DISCHARGE", None]
    assert events[1]["reason"].startswith(f"export.ndjson: line {len(lines)}: not JSON at column")
    assert events[1]["payload"] == lines[-1].encode()


def test_resources_in_several_ndjson_files_reference_each_other():
    res = samples.encounter_resources(encounter(3))
    encounters = [r for r in res if r["resourceType"] in ("Encounter", "Claim")]
    context = [r for r in res if r not in encounters]
    entries = (read_bytes("\n".join(samples.dumps(r) for r in encounters).encode(), "Encounter.ndjson", True)
               + read_bytes("\n".join(samples.dumps(r) for r in context).encode(), "Patient.ndjson", True))
    result = convert(entries, now_ms=0)
    visit = decoded(result)[0]
    assert result.ok and visit["patient_age"] == 54 and visit["payer_id"] == "COMM-ACME"


def test_a_single_resource_file_and_a_non_resource():
    res = samples.encounter_resources(encounter(4))
    enc = next(r for r in res if r["resourceType"] == "Encounter")
    enc["account"] = [{"identifier": {"value": encounter(4)["account_id"]}}]
    result = convert(read_bytes(samples.dumps(enc).encode(), "enc.json"), now_ms=0)
    (visit,) = decoded(result)
    assert result.ok and visit["visit_number"] == "E0000004" and visit["patient_age"] is None
    result = convert(read_bytes(b'{"hello": 1}', "x.json"), now_ms=0)
    assert result.problems == ["x.json: resource: not a FHIR resource (no resourceType)"]


def test_other_resource_types_are_reported_as_ignored():
    res = samples.encounter_resources(encounter(5)) + [{"resourceType": "Observation", "id": "o1"}]
    result = convert(read_bytes(bundle_text(res).encode(), "b.json"), now_ms=0)
    assert result.ok and result.ignored == {"Observation": 1}


def test_event_ids_are_stable_across_resends_and_change_with_the_content():
    def ids(resources):
        return [e["event_id"] for e in decoded(convert(read_bytes(bundle_text(resources).encode(), "f"), now_ms=0))]

    res = samples.encounter_resources(encounter(6))
    assert ids(res) == ids(res) == ["fhir:Encounter/E0000006/_history/1", "fhir:Claim/claim-E0000006/_history/1"]
    for r in res:
        r.pop("meta", None)
    first = ids(res)
    assert first == ids(res) and first[0].startswith("fhir:Encounter/E0000006#")
    next(r for r in res if r["resourceType"] == "Encounter")["status"] = "cancelled"
    assert ids(res)[0] != first[0]


def test_dead_letter_ids_are_stable_for_the_same_bad_entry():
    data = b'{"resourceType": "Encounter", "status": '
    one, two = (decoded(convert(read_bytes(data, n), now_ms=0))[0] for n in ("a.json", "b.json"))
    assert one["event_id"] == two["event_id"] and one["event_id"].endswith(":fhir_adapter")
