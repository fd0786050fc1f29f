"""The coder against the clinician phrasings in producers/phrases.py (which it never reads)."""

from datetime import timedelta

from producers.phrases import PHRASES, VAGUE

THRESHOLD = 0.80



def _patient(p):
    sex = p.sex or "F"
    return max(p.min_age, min(45, p.max_age)), sex


def test_every_expected_code_is_a_billable_leaf_of_the_release_in_force_when_it_is_used(coder):
    assert [p.code for p in PHRASES if not coder.billable_on(p.code, p.since or p.until)] == []
    assert [p.code for p in PHRASES if p.until and coder.billable_on(p.code, p.until + timedelta(days=1))] == []
    assert [p.code for p in PHRASES if p.since and coder.billable_on(p.code, p.since - timedelta(days=1))] == []
    assert len(PHRASES) >= 150 and len(VAGUE) >= 15


def test_coder_gets_most_phrasings_right_and_auto_codes_most(coder):
    # each phrase on a date it is used; one the source always sends coded is not the coder's
    results = [(p, coder.code(p.text, *_patient(p), date=p.since or p.until))
               for p in PHRASES if not p.sent_coded]
    auto = [(p, s) for p, s in results if s.confidence >= THRESHOLD]
    correct_auto = sum(s.code == p.code for p, s in auto)
    assert len(auto) / len(results) >= 0.90
    assert correct_auto / len(auto) >= 0.97
    assert sum(s.code == p.code for p, s in results) / len(results) >= 0.95


def test_every_vague_statement_goes_to_review(coder):
    for text in VAGUE:
        assert coder.code(text, 40, "F").confidence < THRESHOLD, text
