"""Accessibility basics on every page: each visible input, select and text area has a label, and
every page has one h1 and a skip link to its main content."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.console.seed_rows import ACCOUNT, seed

pytestmark = pytest.mark.integration
PAGES = ("/login", "/", "/coding", "/coding/rev-1", "/held", "/claims/CLM-7001", "/denials",
         "/rules", "/accounts", f"/accounts/{ACCOUNT}", "/kpis", "/ops")


class Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.labelled: set[str] = set()
        self.fields: list[dict] = []
        self.h1 = 0
        self.skip = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.fields.append(a)
        elif tag == "h1":
            self.h1 += 1
        elif tag == "a" and a.get("href") == "#main":
            self.skip = True

    def unlabelled(self) -> list[str]:
        return [f.get("name") or "?" for f in self.fields
                if f.get("id") not in self.labelled and not f.get("aria-label")]


def test_every_field_of_every_page_has_a_label(login, owner_db):
    seed(owner_db)
    client = login("admin")
    checked = 0
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        found = Fields()
        found.feed(response.text)
        assert found.unlabelled() == [], path
        assert found.h1 == 1 and found.skip, path
        checked += len(found.fields)
    assert checked == 15  # login 2, queue filters 2, picker and codes 2 (review) and 2 (held claim
    # correction), appeal step 3, find 1, payment 3