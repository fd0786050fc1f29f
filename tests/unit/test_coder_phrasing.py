"""The long tail of phrasing (issue 14 part 3): statements written the Alphabetic Index's way, and
the package sources behind them. Statements here are written for these tests, in the shapes of the
dev set's index_words tag, never copied from it or from code titles."""
from typing import ClassVar

import simple_icd_10_cm as icd

from processors.coding import lexicon, phrasing
from processors.coding.index import Index, build_index, parse_term
from processors.coding.normalise import Tokens, fold

THRESHOLD = 0.80


def test_short_titles_teach_abbreviations_that_agree():
    pairs = [("Unsp fx of l femur", "Unspecified fracture of left femur"),
             ("Unsp fx of r tibia", "Unspecified fracture of right tibia"),
             ("Displ fx of r ulna", "Displaced fracture of right ulna"),
             ("Hemorrh of stomach", "Hemorrhage of stomach"),
             ("Hemorrh of colon", "Hemorrhage of colon"), ("Hemorrh of anus", "Hemorrhage of anus"),
             ("Oth fx", "Other fracture"), ("Oth disorder", "Other disorder"), ("Oth cyst", "Other cyst")]
    learned = lexicon.learn_abbreviations(pairs, min_count=2)
    assert learned["unsp"] == "unspecified"
    assert "fx" not in learned  # not letters of "fracture" in order: the coder's own table has it
    assert learned["hemorrh"] == "hemorrhage" and learned["oth"] == "other"
    assert "displ" not in learned  # seen once
    assert "l" not in learned and "r" not in learned  # one letter says too little


def test_a_category_reference_names_its_default_leaf_never_an_other_one():
    assert lexicon.default_leaf(icd, "K92.0") == "K92.0"  # billable already
    assert lexicon.default_leaf(icd, "K27") == "K27.9"
    assert lexicon.default_leaf(icd, "D57.0") == "D57.00"  # not D57.09 "other specified"
    assert lexicon.default_leaf(icd, "N83.2") == "N83.209"
    assert lexicon.default_leaf(icd, "S02.60") == "S02.609A"  # an injury: its initial encounter


def test_excludes_notes_and_category_terms_point_at_billable_codes():
    notes = lexicon.excludes_terms(icd)
    assert ("K92.0", "hematemesis") not in notes  # one word says too little
    assert all(icd.is_leaf(code) for code, _ in notes[:500])
    assert not any(code.startswith(("V", "W", "X", "Y")) for code, _ in notes)
    terms = {phrase: code for code, phrase in lexicon.category_terms(icd)}
    assert all(icd.is_leaf(code) for code in terms.values())


def test_a_phrase_from_another_source_counts_less_than_the_codes_own_title():
    entries = [parse_term("K92.2", "Gastrointestinal hemorrhage, unspecified")]
    index = Index(entries + [
        parse_term("K92.2", "Hemorrhage of gastrointestinal tract").__class__(
            **{**parse_term("K92.2", "Hemorrhage of gastrointestinal tract").__dict__, "weight": 0.9,
               "text": "Gastrointestinal hemorrhage, unspecified", "via": "ICD-9-CM title"})])
    (score, entry), = index.rank(Tokens(("gastrointestinal", "hemorrhage", "tract"), ()))
    assert entry.code == "K92.2" and entry.via == "ICD-9-CM title" and score == 0.9


def test_phrases_from_sources_are_indexed_under_the_codes_own_title_and_not_for_a_stated_side():
    index = build_index(_Tiny(), more=[("I82.519", "Chronic embolism and thrombosis of deep femoral vein",
                                        0.97, "category inclusion term", ["left", "right", "bilateral"])])
    derived = [e for e in index.entries if e.via]
    assert len(derived) == 1 and derived[0].text == "Chronic embolism and thrombosis of unspecified femoral vein"
    assert {"left", "right"} <= derived[0].negative


class _Tiny:
    """Two codes of simple-icd-10-cm's interface, enough for build_index."""
    TITLES: ClassVar[dict[str, str]] = {"I82.519": "Chronic embolism and thrombosis of unspecified femoral vein",
                                        "I82.512": "Chronic embolism and thrombosis of left femoral vein"}

    def get_all_codes(self, _dots):
        return list(self.TITLES)

    def is_chapter(self, _c):
        return False

    def is_block(self, _c):
        return False

    def is_category(self, _c):
        return False

    def is_leaf(self, _c):
        return True

    def get_description(self, c):
        return self.TITLES[c]

    def get_inclusion_term(self, _c):
        return []


def test_organisms_lead_to_the_disease_named_after_them():
    words = phrasing.organism_words({"trichostrongyliasis": [], "toxoplasmosis": [], "coccidioidomycosis": [],
                                     "infection": []})
    assert phrasing.lookup_organism(words, "trichostrongylus") == "trichostrongyliasis"
    assert phrasing.lookup_organism(words, "toxoplasma") == "toxoplasmosis"
    assert phrasing.lookup_organism(words, "coccidioide") == "coccidioidomycosis"  # stemmed "coccidioides"
    assert phrasing.lookup_organism(words, "infection") is None


def test_accents_are_folded_on_both_sides():
    assert fold("Sjögren syndrome") == "sjogren syndrome" and fold("Ménière") == "meniere"


# (statement, age, sex, code): written the Alphabetic Index's way, each coded automatically
INDEX_WAY = [
    ("Bleeding, gastroenteric", 60, "M", "K92.2"),           # modifier first, site synonym
    ("Furuncle, labia majora", 30, "F", "N76.4"),            # labium/vulva
    ("Calculus, ureteral", 40, "M", "N20.1"),                # stone as the index words it
    ("Trichinella infestation", 30, "M", "B75"),             # organism -> trichinellosis
    ("infection with Histoplasma", 50, "M", "B39.9"),        # organism -> histoplasmosis
    ("Listeria infection", 70, "F", "A32.9"),
    ("Cushing disease", 40, "F", "E24.9"),                   # eponym, head word differs from the title's
    ("headache syndrome NEC", 30, "F", "G44.89"),            # NEC: the other specified leaf
    ("low potassium", 70, "F", "E87.6"),                     # low X: hypo-X
    ("inflammation of the pancreas", 50, "M", "K85.90"),     # inflammation, organ: -itis
    ("osteomyelitis of maxilla", 60, "F", "M27.2"),          # maxilla -> jaw
    ("carcinoma of voice box", 70, "M", "C32.9"),            # lay body-part name
]


def test_statements_written_the_index_way_are_coded(coder):
    wrong = []
    for text, age, sex, expected in INDEX_WAY:
        found = coder.code(text, age, sex)
        if found.code != expected or found.confidence < THRESHOLD:
            wrong.append((text, found.code, found.confidence, expected))
    assert wrong == []


def test_specified_nec_is_never_the_unspecified_code(coder):
    for text in ("cardiomyopathy, specified NEC", "other specified hypothyroidism", "rhinitis, allergic, NEC"):
        found = coder.code(text, 50, "F")
        assert found.code and "unspecified" not in coder.describe(found.code).lower(), (text, found)


def test_external_causes_are_never_a_statements_only_code(coder):
    for text in ("fell from ladder at home", "pacemaker in place", "struck by a ball"):
        found = coder.code(text, 50, "F")
        assert not (found.code or "").startswith(("V", "W", "X", "Y")), (text, found.code)


def test_a_close_call_chosen_by_another_reading_goes_to_review(coder):
    # "specified scoliosis NEC": three Other... scoliosis codes score alike; none is auto-coded
    found = coder.code("specified scoliosis NEC", 16, "F")
    assert found.confidence < THRESHOLD


def test_an_unknown_word_is_completed_from_the_index_words():
    known = {"regurgitation": [1, 2], "regurgitant": [1], "itch": [1, 2, 3], "pain": [1]}
    assert phrasing._complete("regurg", known) == "regurgitation"  # the most used completion
    assert phrasing._complete("itchy", known) == "itch"  # an adjective in -y
    assert phrasing._complete("zzzzzz", known) is None and phrasing._complete("pai", known) is None


def test_a_known_organism_beside_its_condition_is_read_as_its_adjective():
    words = phrasing.organism_words({"trichomoniasis": [], "trichomonal": [], "vaginitis": []})
    query = Tokens(("trichomona", "vaginitis"), ())
    readings = phrasing.variants(query, "trichomonas vaginitis", {"trichomonal": [1], "vaginitis": [1],
                                                                  "trichomona": [1]}, {}, words)
    assert (Tokens(("trichomonal", "vaginitis"), ()), phrasing.ORGANISM_FACTOR, "organism adjective") in readings


def test_around_an_organ_is_its_peri_word():
    readings = phrasing.variants(Tokens(("pain", "around", "umbilicus"), ()), "pain around the navel",
                                 {"periumbilical": [1], "pain": [1]}, {}, {})
    assert any(q.positive == ("pain", "periumbilical") for q, _, _ in readings)


def test_lay_names_of_conditions_read_as_the_index_words(coder):
    # written for this test, not in the dev set: the lexicon holds general synonyms
    for text, age, sex, want in (("throwing up blood", 50, "M", "K92.0"), ("spitting blood", 60, "M", "R04.2"),
                                 ("bedwetting", 7, "M", "N39.44"), ("fingernail fungus", 40, "F", "B35.1"),
                                 ("fibroid uterus", 45, "F", "D25.9"), ("tennis elbow, right", 45, "M", "M77.11"),
                                 ("chickenpox", 5, "M", "B01.9")):
        assert coder.code(text, age, sex).code == want, text


def test_clinical_abbreviations_expand_and_ambiguous_ones_read_by_their_neighbour(coder):
    for text, age, sex, want in (("RLS", 60, "F", "G25.81"), ("threatened AB", 28, "F", "O20.0"),
                                 ("L breast ca, UIQ", 55, "F", "C50.212"), ("RUL lung cancer", 70, "M", "C34.11"),
                                 ("perforated appy", 20, "M", "K35.32")):
        assert coder.code(text, age, sex).code == want, text
    assert coder.code("s/p appy", 40, "M").code != "K35.80"  # appy alone may be the operation


def test_a_side_after_an_or_site_is_required_and_the_site_implied():
    entry = parse_term("C34.11", "Malignant neoplasm of upper lobe, right bronchus or lung")
    assert "right" in entry.required and "bronchus" not in entry.required and "bronchus" in entry.optional


def test_a_side_the_best_title_drops_is_a_coders_call_when_a_sided_code_is_near(coder):
    found = coder.code("sensorineural hearing loss, left", 70, "M")
    assert found.confidence < THRESHOLD


def test_a_condition_only_pregnancy_has_names_the_pregnancy_and_its_weeks(coder):
    # Z3A beside the chapter 15 code (guideline I.C.15.b), the trimester counted from the weeks
    found = coder.code("mild hyperemesis, 9 wks", 27, "F")
    assert (found.code, found.also) == ("O21.0", ("Z3A.09",))
    found = coder.code("GDM A1, 30 weeks", 33, "F")
    assert (found.code, found.also) == ("O24.410", ("Z3A.30",))
    found = coder.code("pre-eclampsia, 35 wks", 31, "F")
    assert found.code.startswith("O14.") and found.code.endswith("3") and found.also == ("Z3A.35",)


def test_a_code_first_note_the_statement_itself_names_puts_that_code_first(coder):
    found = coder.code("pneumonia due to covid-19", 60, "M")
    assert (found.code, found.also) == ("U07.1", ("J12.82",))
    found = coder.code("anemia of chronic kidney disease", 70, "F")
    assert (found.code, found.also) == ("N18.9", ("D63.1",))  # the category's default leaf
    assert coder.code("viral pneumonia", 60, "M").also == ()  # nothing the note names was said


def test_h_pylori_is_the_cause_beside_its_condition_and_b95_b97_are_never_alone(coder):
    found = coder.code("H. pylori duodenal ulcer", 50, "M")
    assert (found.code, found.also) == ("K26.9", ("B96.81",))
    for text in ("helicobacter pylori infection", "E coli infection"):
        assert not (coder.code(text, 50, "F").code or "").startswith(("B95", "B96", "B97")), text


def test_vaginitis_and_vulvovaginitis_are_one_condition(coder):
    assert coder.code("trichomonal vaginitis", 30, "F").code == "A59.01"
    assert coder.code("acute vulvovaginitis", 30, "F").code == "N76.0"


def test_a_stemi_by_wall_is_the_initial_infarct_of_that_walls_other_artery_unless_one_is_named(coder):
    assert coder.code("STEMI of inferior wall", 60, "M").code == "I21.19"
    assert coder.code("acute STEMI, anterior", 60, "M").code == "I21.09"
    assert coder.code("STEMI, LAD", 60, "M").code == "I21.02"
    assert coder.code("subsequent STEMI of inferior wall", 60, "M").code == "I22.1"


def test_seropositive_rheumatoid_arthritis_is_with_rheumatoid_factor_and_no_site_is_unspecified_site(coder):
    assert coder.code("seropositive rheumatoid arthritis", 60, "F").code == "M05.9"
    assert coder.code("seronegative rheumatoid arthritis", 60, "F").code == "M06.00"  # not "unspecified hip"
