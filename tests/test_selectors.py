"""Selector groups of bare tags and classes, matched in one walk, find what cssselect's XPath finds."""

import pytest
from cssselect import HTMLTranslator
from lxml import etree

from wwc_archive.crawler.extract import parse_html
from wwc_archive.crawler.selectors import TagsAndClasses, query
from wwc_archive.profile import SiteProfile

PAGE = """<html><body class="pager"><main class="main">
<div class="views-row">
  <nav>menu <span class="pager">1</span></nav>
  <p class="byline  x">tab-free</p><p class="x\tbyline">tab</p><p class="x\nbyline\r">newline</p>
  <p class="x\xa0byline">no-break space is no separator</p><p class="Byline">other case</p>
  <p class="byline-extra">longer name</p><p class="">empty</p><p>none</p>
  <SCRIPT>var x;</SCRIPT><aside class="pager"><aside>nested</aside></aside>
</div>
<div class="views-row"><div class="field--name-body"><p class="field--name-body">inner</p></div></div>
</main></body></html>"""

GROUPS = {
    "profile noise": list(SiteProfile().ignore_selectors),
    "profile teaser summary": list(SiteProfile().teaser_summary_selectors),
    "classes": [".byline", ".pager"],
    "tags and classes": ["script", "aside", ".byline"],
}
PREFIXES = ["descendant-or-self::", "descendant::", ".//"]


def xpath(selectors, prefix):
    translator = HTMLTranslator()
    return etree.XPath(" | ".join(translator.css_to_xpath(css, prefix=prefix) for css in selectors))


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("selectors", GROUPS.values(), ids=GROUPS.keys())
def test_one_walk_finds_what_xpath_finds(selectors, prefix):
    compiled = query(selectors, prefix)
    assert isinstance(compiled, TagsAndClasses)
    root = parse_html(PAGE)
    for node in [root, *root.iter("div", "main", "body")]:
        found = compiled(node)
        assert found == xpath(selectors, prefix)(node)
    assert found or compiled(root), "the page has something of each group"


@pytest.mark.parametrize("selectors", [["h1"], ["main .byline"], ["p.byline"], [".byline", "a[href]"], []],
                         ids=["tag only", "descendant combinator", "tag and class", "attribute", "none"])
def test_other_groups_stay_xpath(selectors):
    compiled = query(selectors, "descendant::")
    assert isinstance(compiled, etree.XPath)
    root = parse_html(PAGE)
    assert compiled(root) == (xpath(selectors, "descendant::")(root) if selectors else [])
