"""Citing a version: the human style, BibTeX and CSL-JSON built by reports/citation.py."""

import json
import re

import pytest

from wwc_archive.reports.citation import Citable, bibtex, bibtex_escape, citations, csl_json, human

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def citable(**fields) -> Citable:
    return Citable(**{
        "original_url": "https://datasmart.hks.harvard.edu/what-works-cities?page=2",
        "captured_at": "2019-03-01T03:04:05Z",
        "permalink": "http://127.0.0.1:8001/-/wwc/snapshot/42",
        "archive_name": "What Works Cities archive",
        "archive_url": "http://127.0.0.1:8001/",
        "snapshot_id": 42,
        "title": "What Works Cities",
        "sha256": SHA,
        **fields,
    })


def test_human_citation_names_everything_a_reader_needs():
    text = human(citable(site="Data-Smart City Solutions"))
    assert text == (
        "What Works Cities. (n.d.). Data-Smart City Solutions. Archived 1 March 2019, 03:04 UTC, by "
        "What Works Cities archive: http://127.0.0.1:8001/-/wwc/snapshot/42 (original URL "
        f"https://datasmart.hks.harvard.edu/what-works-cities?page=2; SHA-256 {SHA})"
    )


@pytest.mark.parametrize("fields, starts", [
    pytest.param({}, "What Works Cities. (n.d.). datasmart.hks.harvard.edu.", id="no-author-title-first-host-as-site"),
    pytest.param({"author": "Jane Doe", "published": "March 3, 2018"},
                 "Jane Doe. (2018). What Works Cities. datasmart.hks.harvard.edu.", id="author-and-year"),
    pytest.param({"title": None}, "https://datasmart.hks.harvard.edu/what-works-cities?page=2. (n.d.).",
                 id="untitled-uses-url"),
    pytest.param({"sha256": None}, "What Works Cities.", id="no-body"),
])
def test_human_citation_variants(fields, starts):
    text = human(citable(**fields))
    assert text.startswith(starts)
    assert ("SHA-256" in text) == bool(fields.get("sha256", SHA))


@pytest.mark.parametrize("raw, escaped", [
    pytest.param("Fees & Fines", r"Fees \& Fines", id="ampersand"),
    pytest.param("100% open_data #1", r"100\% open\_data \#1", id="percent-underscore-hash"),
    pytest.param("{braces} $5 ^~\\", r"\{braces\} \$5 \^{}\~{}\textbackslash{}", id="the-rest"),
])
def test_bibtex_escape(raw, escaped):
    assert bibtex_escape(raw) == escaped


def test_bibtex_entry_is_balanced_and_keeps_urls_verbatim():
    entry = bibtex(citable(title="Fees & Fines: 100% open", author="Jane Doe"))
    assert entry.startswith("@online{datasmart20190301v42,\n")
    assert entry.count("{") == entry.count("}")
    fields = dict(re.findall(r"^  (\w+) = \{(.*)\},?$", entry, re.M))
    assert fields["title"] == r"{Fees \& Fines: 100\% open}"
    assert fields["author"] == "Jane Doe"
    assert fields["url"] == "http://127.0.0.1:8001/-/wwc/snapshot/42"
    assert fields["urldate"] == "2019-03-01"
    assert SHA in fields["note"] and "datasmart.hks.harvard.edu/what-works-cities?page=2" in fields["note"]


def test_csl_json_item():
    item = csl_json(citable(published="2018-03-03"))
    assert json.loads(json.dumps(item)) == item
    assert item["type"] == "webpage"
    assert item["URL"] == "http://127.0.0.1:8001/-/wwc/snapshot/42"
    assert item["accessed"] == {"date-parts": [[2019, 3, 1]]}
    assert item["issued"] == {"raw": "2018-03-03"}
    assert item["archive"] == "What Works Cities archive"
    assert item["custom"] == {"original_url": "https://datasmart.hks.harvard.edu/what-works-cities?page=2",
                              "captured_at": "2019-03-01T03:04:05Z", "archive_url": "http://127.0.0.1:8001/",
                              "snapshot": 42, "sha256": SHA}
    assert "author" not in item


def test_citations_gives_every_form_as_text():
    forms = citations(citable())
    assert set(forms) == {"human", "bibtex", "csl_json"}
    assert json.loads(forms["csl_json"])["id"] == "datasmart20190301v42"
