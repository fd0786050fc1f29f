"""Other readings of a statement written the Alphabetic Index's way, ranked beside the plain one.

The index matches words, so word order ("Hemorrhage, gastroenteric") costs nothing; what costs
is a word the titles do not use. Each rule below gives another query for the same statement and
a factor (at most 1) its scores are multiplied by; the coder keeps each code's best score.

  abbreviations  a word the index does not know that CMS's short titles abbreviate ("hemorrh",
                 "GU"): the long word (processors.coding.lexicon learns them)
  completions    a word the index does not know that starts index words ("regurg"), or is an
                 adjective in -y of one ("colicky"): the most used such word
  organisms      a genus the index does not know, or one named with "infection"/"infestation":
                 the disease named after it ("Trichostrongylus" -> trichostrongyliasis,
                 "Toxoplasma infection" -> toxoplasmosis), found among the index's own words
  NEC            "NEC", "not elsewhere classified", "specified" (not "unspecified"): the *other
                 specified* leaf (.8x, "Other ..."), not the unspecified one
  eponyms        "Bell palsy", "Crohn disease", "Hashimoto disease": when every other word is rare
                 (a name), "disease"/"syndrome"/"disorder" is credited where a title has it and
                 not missed where it has another head ("Hashimoto's thyroiditis")
  broader sites  a site the index words by its region ("mandible", "maxilla" -> jaw): ranked with
                 the region as well, at a small discount
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from processors.coding.normalise import Tokens, stem

ABBREVIATION_FACTOR = 1.0
COMPLETION_FACTOR = 0.95
ORGANISM_FACTOR = 0.97
EPONYM_FACTOR = 0.97
BROADER_FACTOR = 0.95
NEC_FACTOR = 1.0
NEC_WHY = "NEC / specified: an other specified code"  # the coder keeps only "Other ..." titles for it

# cut from a genus once the stemmer has run ("strongyloides" is "strongyloide" by then)
_LATIN_ENDINGS = ("ium", "ia", "us", "um", "es", "is", "as", "ae", "e", "a", "i")
_DISEASE_SUFFIX = re.compile(r"^[a-z]{0,5}(?:iasis|asis|osis)$")
_INFECTION_WORDS = frozenset(stem(w) for w in ("infection", "infections", "infestation", "infested",
                                               "infected", "disease"))
_EPONYM_HEADS = frozenset(stem(w) for w in ("disease", "syndrome", "disorder", "illness"))
_EPONYM_MAX_DF = 30
# A site the tabular list often words by its region (the Alphabetic Index: "Cyst, jaw", "Osteomyelitis,
# jaw"); the site itself is kept as an implied word, so a title naming it still gets it.
BROADER_SITES: Mapping[str, str] = {
    stem(w): stem(broad) for w, broad in (
        ("mandible", "jaw"), ("mandibular", "jaw"), ("maxilla", "jaw"), ("maxillary", "jaw"),
        ("labium", "vulva"), ("clitoris", "vulva"), ("duodenum", "intestine"), ("jejunum", "intestine"),
        ("ileum", "intestine"), ("cecum", "intestine"), ("sigmoid", "colon"), ("rectosigmoid", "colon"),
        ("forearm", "arm"), ("calf", "leg"), ("shin", "leg"), ("thigh", "leg"), ("eyelid", "eye"),
        ("earlobe", "ear"), ("pinna", "ear"), ("scalp", "head"), ("temple", "head"))}
# An organ and its adjective: the tabular list writes one where a clinician writes the other
# ("stomach ulcer": gastric ulcer; "esophagus varices": esophageal varices); ranked both ways.
_ORGANS = (("stomach", "gastric"), ("kidney", "renal"), ("liver", "hepatic"), ("lung", "pulmonary"),
           ("heart", "cardiac"), ("esophagus", "esophageal"), ("duodenum", "duodenal"), ("colon", "colonic"),
           ("rectum", "rectal"), ("anus", "anal"), ("uterus", "uterine"), ("ovary", "ovarian"),
           ("testis", "testicular"), ("prostate", "prostatic"), ("skin", "cutaneous"), ("brain", "cerebral"),
           ("spleen", "splenic"), ("pancreas", "pancreatic"), ("larynx", "laryngeal"), ("trachea", "tracheal"),
           ("vagina", "vaginal"), ("vulva", "vulvar"), ("breast", "mammary"), ("bladder", "vesical"),
           ("nose", "nasal"), ("intestine", "intestinal"), ("pylorus", "pyloric"), ("umbilicus", "umbilical"),
           ("thyroid", "thyroidal"), ("bone", "osseous"), ("urethra", "urethral"), ("ureter", "ureteral"),
           ("pleura", "pleural"), ("cervix", "cervical"), ("gallbladder", "cholecystic"))
ORGAN_FORMS: Mapping[str, str] = {**{stem(a): stem(b) for a, b in _ORGANS}, **{stem(b): stem(a) for a, b in _ORGANS}}
ORGAN_FACTOR = 0.97
_AROUND = frozenset(("around", "near", "surrounding"))
# "Inflammation, bladder - see Cystitis": an organ's inflammation is its Greek or Latin root + "itis"
_ROOTS = (("bladder", "cyst"), ("stomach", "gastr"), ("kidney", "nephr"), ("liver", "hepat"),
          ("colon", "col"), ("appendix", "appendic"), ("gallbladder", "cholecyst"), ("pancreas", "pancreat"),
          ("trachea", "trache"), ("larynx", "laryng"), ("pharynx", "pharyng"), ("throat", "pharyng"),
          ("tonsil", "tonsill"), ("bronchus", "bronch"), ("bronchi", "bronch"), ("lung", "pneumon"),
          ("vagina", "vagin"), ("vulva", "vulv"), ("cervix", "cervic"), ("ear", "ot"), ("joint", "arthr"),
          ("bone", "oste"), ("vein", "phleb"), ("skin", "dermat"), ("nerve", "neur"), ("esophagus", "esophag"),
          ("duodenum", "duoden"), ("ileum", "ile"), ("pericardium", "pericard"), ("prostate", "prostat"),
          ("testis", "orch"), ("testicle", "orch"), ("epididymis", "epididym"), ("urethra", "urethr"),
          ("breast", "mast"), ("gingiva", "gingiv"), ("tongue", "gloss"), ("mouth", "stomat"), ("eyelid", "blephar"),
          ("cornea", "kerat"), ("retina", "retin"), ("tendon", "tendin"), ("bursa", "burs"), ("muscle", "myos"),
          ("gland", "aden"), ("sinus", "sinus"), ("conjunctiva", "conjunctiv"), ("iris", "ir"), ("spine", "spondyl"),
          ("rectum", "proct"), ("ovary", "oophor"), ("uterus", "endometr"), ("heart muscle", "myocard"),
          ("brain", "encephal"), ("spinal cord", "myel"), ("meninges", "mening"), ("artery", "arter"),
          ("lymph node", "lymphaden"), ("salivary gland", "sialaden"), ("parotid", "parot"), ("thyroid", "thyroid"),
          ("intestine", "enter"), ("navel", "omphal"), ("umbilicus", "omphal"), ("cecum", "typhl"),
          ("kidney pelvis", "pyel"), ("nail", "onych"), ("hair follicle", "follicul"), ("fascia", "fasci"),
          ("cartilage", "chondr"), ("synovium", "synov"), ("uvea", "uve"), ("sclera", "scler"),
          ("peritoneum", "periton"), ("pleura", "pleur"), ("omentum", "oment"), ("penis glans", "balan"))
ITIS: Mapping[str, str] = {stem(organ): f"{root}itis" for organ, root in _ROOTS if " " not in organ}
_INFLAMMATION = frozenset(stem(w) for w in ("inflammation", "inflamed", "inflammatory"))
ITIS_FACTOR = 0.97
# "Low, blood pressure - see Hypotension": low or high amounts of a substance are its hypo-/hyper-
# word, where the index has it ("low magnesium": hypomagnesemia; "high cholesterol": hypercholesterolemia)
_AMOUNTS = (("magnesium", ("magnesemia",)), ("calcium", ("calcemia",)), ("potassium", ("kalemia",)),
            ("sodium", ("natremia",)), ("phosphate", ("phosphatemia",)), ("phosphorus", ("phosphatemia",)),
            ("glucose", ("glycemia",)), ("sugar", ("glycemia",)), ("cholesterol", ("cholesterolemia",)),
            ("triglyceride", ("triglyceridemia", "glyceridemia")), ("lipid", ("lipidemia",)),
            ("albumin", ("albuminemia",)), ("protein", ("proteinemia",)), ("oxygen", ("xemia", "xia")),
            ("bp", ("tension",)), ("pressure", ("tension",)), ("thyroid", ("thyroidism",)),
            ("temperature", ("thermia",)), ("potassium", ("kalemia",)), ("uric", ("uricemia",)),
            ("insulin", ("insulinemia",)), ("ammonia", ("ammonemia",)), ("bilirubin", ("bilirubinemia",)))
_LOW = frozenset(stem(w) for w in ("low", "lowered", "decreased", "reduced", "deficient"))
_HIGH = frozenset(stem(w) for w in ("high", "elevated", "raised", "increased", "excess"))
_AMOUNT_WORDS = frozenset(stem(w) for w in ("level", "levels", "blood", "serum"))
AMOUNT_FACTOR = 0.97
# Lesions the Alphabetic Index treats as one ("Carbuncle - see Furuncle"; "Boil - see Furuncle")
SAME_LESION: Mapping[str, str] = {stem("carbuncle"): stem("furuncle"), stem("furuncle"): stem("carbuncle")}
_NEC = re.compile(r"\bnec\b|\bnot elsewhere classified\b|(?<!un)\bspecified\b")
_NEC_WORDS = frozenset(("nec", "specifi", "specified", "elsewhere", "classifi", "classified"))


def variants(query: Tokens, text: str, known: Mapping[str, list], abbreviations: Mapping[str, str],
             organisms: Mapping[str, str]) -> list[tuple[Tokens, float, str]]:
    """(query, factor, why) of each other reading of `text` (whose query is `query`); `known` is
    the index's postings (word -> entries), `organisms` organism_words(known)."""
    out: list[tuple[Tokens, float, str]] = []
    positive = list(query.positive)

    # unknown words: abbreviations and organisms
    fixed, changed, why = [], False, []
    for t in positive:
        if t not in known and t in abbreviations and stem(abbreviations[t]) in known:
            fixed.append(stem(abbreviations[t]))
            changed = True
            why.append(f"{t} -> {abbreviations[t]}")
        else:
            fixed.append(t)
    if changed:
        query = _with(query, fixed)
        out.append((query, ABBREVIATION_FACTOR, "abbreviation " + ", ".join(why)))
        positive = fixed
    # an unknown word that is the start of index words ("regurg"), or an adjective in -y of one
    # ("colicky"): the most used such word
    grown = [_complete(t, known) if t not in known else t for t in positive]
    if grown != positive and all(grown):
        out.append((_with(query, grown), COMPLETION_FACTOR, "word completed"))
    infection = any(t in _INFECTION_WORDS for t in positive)
    disease = [(t, organisms.get(_root(t))) for t in positive]
    if any(d and (t not in known or infection) for t, d in disease):
        kept = [d if d and (t not in known or infection) else t for t, d in disease]
        named = [t for t, d in disease if d and (t not in known or infection)]
        kept = [t for t in kept if t not in _INFECTION_WORDS]
        implied = tuple(sorted({*query.implied, *named, *(t for t in positive if t in _INFECTION_WORDS)}))
        out.append((Tokens(tuple(dict.fromkeys(kept)), query.negative, implied), ORGANISM_FACTOR,
                    "organism " + ", ".join(f"{t} -> {d}" for t, d in disease if t in named)))

    # a known organism named beside its condition: the organism's adjective ("Trichomonas
    # vaginitis": trichomonal vulvovaginitis)
    if not infection and not any(t in _INFECTION_WORDS for t in positive):
        adjectives = [(t, organisms.get("adjective:" + _root(t))) for t in positive]
        if any(a for _, a in adjectives) and len(positive) > 1:
            out.append((_with(query, [a or t for t, a in adjectives]), ORGANISM_FACTOR, "organism adjective"))

    # NEC / specified: the other specified leaf
    if _NEC.search(text.lower()):
        kept = [t for t in positive if t not in _NEC_WORDS]
        if kept:
            implied = tuple(sorted({*query.implied, stem("specified")}))
            out.append((Tokens(tuple(dict.fromkeys([*kept, "other"])), query.negative, implied), NEC_FACTOR,
                        NEC_WHY))

    # eponyms: a name with a generic head
    heads = [t for t in positive if t in _EPONYM_HEADS]
    names = [t for t in positive if t not in _EPONYM_HEADS]
    if heads and names and all(0 < len(known.get(t, ())) <= _EPONYM_MAX_DF for t in names):
        out.append((Tokens(tuple(names), query.negative, tuple(sorted({*query.implied, *heads}))),
                    EPONYM_FACTOR, "eponym: " + " ".join(names)))

    # an organ written as a noun where the titles use the adjective, or the other way
    if any(t in ORGAN_FORMS for t in positive):
        other = [ORGAN_FORMS.get(t, t) for t in positive]
        out.append((_with(query, other), ORGAN_FACTOR, "organ and adjective"))

    # "pain around the belly button": periumbilical pain (around / near an organ: peri- + its adjective)
    if any(t in _AROUND for t in positive):
        near = [(t, ORGAN_FORMS.get(t, t)) for t in positive]
        found = [(t, "peri" + a) for t, a in near if "peri" + a in known and t not in _AROUND]
        if found:
            swap = dict(found)
            words = [swap.get(t, t) for t in positive if t not in _AROUND]
            out.append((_with(query, words), ORGAN_FACTOR, "around: " + ", ".join(w for _, w in found)))

    # "inflammation of the bladder": cystitis
    if any(t in _INFLAMMATION for t in positive):
        organs = [t for t in positive if t in ITIS and stem(ITIS[t]) in known]
        if organs:
            rest = [t for t in positive if t not in _INFLAMMATION and t not in organs]
            named = [stem(ITIS[t]) for t in organs]
            out.append((Tokens(tuple(dict.fromkeys([*named, *rest])), query.negative,
                               tuple(sorted({*query.implied, *organs}))), ITIS_FACTOR,
                        "inflammation of " + ", ".join(organs) + " -> " + ", ".join(named)))

    # low or high amounts: hypo- / hyper- words
    low, high = any(t in _LOW for t in positive), any(t in _HIGH for t in positive)
    if low != high:
        prefix = "hypo" if low else "hyper"
        for substance, endings in _AMOUNTS:
            if stem(substance) in positive:
                word = next((stem(prefix + e) for e in endings if stem(prefix + e) in known), None)
                if word:
                    rest = [t for t in positive if t not in _LOW | _HIGH | _AMOUNT_WORDS and t != stem(substance)]
                    out.append((Tokens(tuple(dict.fromkeys([word, *rest])), query.negative, query.implied),
                                AMOUNT_FACTOR, f"{'low' if low else 'high'} {substance} -> {prefix}{substance}"))
                    break

    # lesions the index treats as one
    if any(t in SAME_LESION for t in positive):
        out.append((_with(query, [SAME_LESION.get(t, t) for t in positive]), BROADER_FACTOR, "same lesion"))

    # broader sites
    if any(t in BROADER_SITES for t in positive):
        wider = [BROADER_SITES.get(t, t) for t in positive]
        implied = tuple(sorted({*query.implied, *(t for t in positive if t in BROADER_SITES)}))
        out.append((Tokens(tuple(dict.fromkeys(wider)), query.negative, implied), BROADER_FACTOR,
                    "site by its region"))
    return out


def _complete(word: str, known: Mapping[str, list]) -> str | None:
    if len(word) >= 5:
        longer = [k for k in _by_prefix(known, word[:3]) if k.startswith(word) and k != word]
        if longer:
            return max(longer, key=lambda k: (len(known[k]), k))
    for cut in ("ky", "y"):
        if word.endswith(cut) and len(word) - len(cut) >= 4 and word[:-len(cut)] in known:
            return word[:-len(cut)]
    return None


_PREFIXES: dict[int, dict[str, list[str]]] = {}


def _by_prefix(known: Mapping[str, list], head: str) -> list[str]:
    table = _PREFIXES.get(id(known))
    if table is None:
        table = {}
        for k in known:
            table.setdefault(k[:3], []).append(k)
        _PREFIXES.clear()
        _PREFIXES[id(known)] = table
    return table.get(head, [])


def _with(query: Tokens, positive: list[str]) -> Tokens:
    return Tokens(tuple(dict.fromkeys(positive)), query.negative, query.implied)


def _root(word: str) -> str:
    for ending in _LATIN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 5:
            return word[:-len(ending)]
    return word if len(word) >= 5 else ""


def organism_words(known) -> dict[str, str]:
    """Root of an organism's name -> the index word for its disease: every index word made of a
    root and a disease ending (trichostrongyl-iasis, toxoplasm-osis, coccidioid-omycosis)
    is found again from the genus, whose Latin ending is cut the same way."""
    out: dict[str, str] = {}
    for word in known:
        if len(word) < 8 or not word.isalpha():
            continue
        for cut in range(5, len(word) - 1):
            if _DISEASE_SUFFIX.match(word[cut:]):
                root = word[:cut]
                held = out.get(root)
                if held is None or len(word) < len(held):
                    out[root] = word
        if word.endswith("al") and len(word) >= 9:  # trichomon-al, candid-al
            for ending in ("al",):
                root = word[:-len(ending)]
                out.setdefault("adjective:" + root, word)
    return out


def lookup_organism(organisms: Mapping[str, str], word: str) -> str | None:
    return organisms.get(_root(word))
