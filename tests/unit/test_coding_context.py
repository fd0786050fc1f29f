"""Context before the code: negation, history, family history, status after a procedure,
uncertainty; then specificity (laterality, 7th character) and the tabular list's notes."""
import pytest
import simple_icd_10_cm as icd

from processors.coding import history
from processors.coding.context import read_context


def test_every_history_family_and_status_target_is_a_billable_leaf():
    assert [t for t in sorted(history.all_targets()) if not (icd.is_valid_item(t) and icd.is_leaf(t))] == []


@pytest.mark.parametrize("text", ["no evidence of pneumonia", "denies chest pain", "negative for UTI",
                                  "CXR negative for pneumonia", "not consistent with pneumonia",
                                  "pneumonia ruled out", "without evidence of DVT"])
def test_negated_statement_gets_no_code(coder, text):
    s = coder.code(text, 40, "F")
    assert s.code is None and s.reason.startswith("negated")


def test_negation_after_a_named_condition_drops_only_the_rest(coder):
    assert coder.code("chest pain, denies SOB", 40, "F").code == "R07.9"


@pytest.mark.parametrize("text, code", [
    ("history of breast cancer", "Z85.3"), ("h/o stroke", "Z86.73"), ("hx of TIA", "Z86.73"),
    ("prior stroke", "Z86.73"), ("history of PE", "Z86.711"), ("h/o UTI", "Z87.440"),
    ("former smoker", "Z87.891"), ("h/o nicotine dependence", "Z87.891"), ("h/o MI", "I25.2"),
    ("history of colon polyps", "Z86.0100"), ("h/o kidney stones", "Z87.442"),
])
def test_history_of_a_condition_gets_its_personal_history_code_not_the_condition(coder, text, code):
    s = coder.code(text, 60, "F")
    assert s.code == code and s.reason.startswith("history") and s.confidence >= 0.8


def test_history_of_a_condition_without_a_history_code_goes_to_review(coder):
    s = coder.code("h/o HTN", 60, "F")
    assert s.code is None and s.confidence == 0.0 and "I10" in s.reason


@pytest.mark.parametrize("text, code", [
    ("FH of breast cancer", "Z80.3"), ("family history of CAD", "Z82.49"),
    ("fhx colon ca", "Z80.0"), ("colon cancer in father", "Z80.0"),
    ("mother had breast cancer", "Z80.3"), ("family history of glaucoma", "Z83.511"),
])
def test_family_history_gets_a_family_history_code(coder, text, code):
    s = coder.code(text, 40, "M")
    assert s.code == code and s.reason.startswith("family history")


@pytest.mark.parametrize("text, code", [
    ("s/p CABG", "Z95.1"), ("s/p appendectomy", "Z90.49"), ("s/p L knee replacement", "Z96.652"),
    ("status post R TKA", "Z96.651"), ("s/p bilat TKA", "Z96.653"), ("s/p knee replacement", "Z96.659"),
])
def test_status_post_a_procedure_gets_its_status_code(coder, text, code):
    s = coder.code(text, 70, "F")
    assert s.code == code and s.reason.startswith("status") and "procedure" in s.evidence


def test_status_post_a_condition_gets_its_history_code(coder):
    assert coder.code("s/p MI", 70, "F").code == "I25.2"


def test_status_beside_an_active_condition_is_suggested_alongside(coder):
    s = coder.code("CAD s/p CABG", 70, "M")
    assert s.code == "I25.10" and s.also == ("Z95.1",)


@pytest.mark.parametrize("text", ["r/o pneumonia", "suspected pneumonia", "possible pneumonia",
                                  "?pneumonia", "concern for pneumonia"])
def test_uncertain_condition_is_suggested_for_review_not_coded(coder, text):
    s = coder.code(text, 40, "F")
    assert s.code is None and s.confidence == 0.0 and s.reason.startswith("uncertain") and "J18.9" in s.reason


@pytest.mark.parametrize("text, code", [
    ("chest pain, r/o MI", "R07.9"), ("cough, suspected pneumonia", "R05.9"), ("SOB, r/o PE", "R06.02"),
    ("RLQ pain, r/o appendicitis", "R10.31"), ("fever, likely viral", "R50.9"),
    ("cough concerning for pneumonia", "R05.9"), ("headache, ? migraine", "R51.9"),
])
def test_a_stated_symptom_is_coded_and_the_suspected_condition_is_not(coder, text, code):
    s = coder.code(text, 40, "F")
    assert s.code == code and s.also == () and s.confidence >= 0.8


@pytest.mark.parametrize("text", ["bronchitis vs pneumonia", "pneumonia?", "likely viral URI"])
def test_comparative_or_wholly_uncertain_statements_code_nothing(coder, text):
    assert coder.code(text, 40, "F").code is None


@pytest.mark.parametrize("text, code", [
    ("L knee OA", "M17.12"), ("R knee OA", "M17.11"), ("b/l knee OA", "M17.0"), ("bilat knee OA", "M17.0"),
])
def test_laterality_picks_the_lateral_leaf(coder, text, code):
    assert coder.code(text, 70, "F").code == code


def test_evidence_says_which_words_supported_which_part(coder):
    assert coder.code("L knee OA", 70, "F").evidence == (
        "left -> laterality; knee -> site; osteoarthritis -> condition")


@pytest.mark.parametrize("text, code", [
    ("fx of R distal radius, initial encounter", "S52.501A"),
    ("fx of R distal radius, open, initial encounter", "S52.501B"),
    ("fx of R distal radius, subsequent encounter", "S52.501D"),
    ("fx of L femur f/u", "S72.92XD"),
    ("fx R distal radius, delayed healing", "S52.501G"),
    ("sprain of L ankle, sequela", "S93.402S"),
])
def test_seventh_character_follows_the_stated_episode_of_care(coder, text, code):
    assert coder.code(text, 40, "F").code == code


def test_injury_without_an_episode_is_initial_and_goes_to_review(coder):
    s = coder.code("sprain of L ankle", 40, "F")
    assert s.code == "S93.402A" and s.confidence < 0.8 and s.reason.startswith("episode of care not stated")


def test_excludes1_pairs_are_detected(coder):
    assert coder.excludes1_conflicts(["E11.9", "E10.9", "I10"]) == [("E11.9", "E10.9")]
    assert coder.excludes1_conflicts(["I10", "O10.02"]) == [("I10", "O10.02")]
    assert coder.excludes1_conflicts(["E11.9", "I10", "J44.1"]) == []


def test_use_additional_and_code_first_notes_come_from_the_code_and_its_category(coder):
    kinds = {(n.kind, n.on) for n in coder.instruction_notes("E11.22")}
    assert ("use additional code", "E11.22") in kinds and ("use additional code", "E11") in kinds
    first = [n for n in coder.instruction_notes("N18.3") if n.kind == "code first"]
    assert first and any(low <= "E1122" <= high for low, high in first[0].refs)


def test_context_reader_strips_the_cue():
    assert read_context("h/o stroke").kind == "history"
    assert read_context("FH: colon ca").condition.strip() == "colon ca"
    assert read_context("HTN").kind == "active"
