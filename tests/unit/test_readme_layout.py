"""The README's Layout section names every folder of the tree, and nothing that is not there; its
Documentation table links files that exist (or are being written on other branches)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Documents other engineers write on their branches; the README links them already.
COMING = {"docs/reliability.md", "docs/security.md", "docs/console.md", "docs/cluster.md"}


def layout() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("\n## Layout\n", 1)[1].split("```", 2)[1]
    return [line.split()[0] for line in block.splitlines() if line and not line.startswith(" ")]


def tracked_folders() -> set[str]:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    folders = set()
    for name in files:
        if not (ROOT / name).exists():
            continue  # deleted in the working tree, not yet committed
        parts = name.split("/")[:-1]
        folders |= {"/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)}
    return folders


def test_the_layout_names_every_folder_and_only_folders_that_exist():
    named = layout()
    assert named == sorted(set(named), key=named.index), "a folder is named twice"
    assert [n for n in named if not (ROOT / n).is_dir()] == []
    assert sorted(tracked_folders() - set(named)) == []


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_documentation_links_lead_to_files():
    text = (ROOT / "README.md").read_text()
    links = set(re.findall(r"\]\((docs/[a-z-]+\.md)(?:#[a-z0-9-]+)?\)", text))
    assert {"docs/coding.md", "docs/formats.md", "docs/kpis.md", "docs/operations.md"} <= links
    assert [link for link in links - COMING if not (ROOT / link).is_file()] == []
