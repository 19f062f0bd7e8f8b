"""A site profile: every selector and pattern that page extraction uses, per program.

The defaults describe the Data-Smart City Solutions site (Drupal 10). A second
program page, or the same site after a redesign, is a change of these values in
the config's ``[program.profile]`` table (``[program.noise]``, its old name, is
still read). Each list replaces its default; ``extra_NAME`` adds to it.

Selectors are CSS (compiled to XPath by cssselect). In ``title_selectors``,
``page_title_selectors``, ``author_selectors`` and ``date_selectors`` an entry
ending in ``@name`` reads that attribute (``meta[name="author"]@content``)
instead of the element's text; a comma-separated group is one entry whose
matches are taken in document order. Entries are tried in order; the first
that finds something non-empty wins.
"""

import re
from typing import Annotated

from cssselect import HTMLTranslator, SelectorError
from pydantic import AfterValidator, Field, model_validator

from wwc_archive.validation import Model, Pattern, validate

_ATTRIBUTE = re.compile(r"^(?P<css>.*?)\s*@(?P<attr>[A-Za-z_:][-\w:.]*)$", re.DOTALL)


def split_attribute(spec: str) -> tuple[str, str | None]:
    """``'meta[name="author"]@content'`` -> ``('meta[name="author"]', 'content')``; text: ``(css, None)``."""
    match = _ATTRIBUTE.match(spec.strip())
    if match and match.group("css"):
        return match.group("css"), match.group("attr")
    return spec.strip(), None


def _css(spec: str) -> str:
    css, _attribute = split_attribute(spec)
    try:
        HTMLTranslator().css_to_xpath(css)
    except SelectorError as error:
        raise ValueError(f"is not a valid CSS selector: {spec!r} ({error})") from None
    return spec


#: A CSS selector, optionally ending in ``@attribute``; compiled once to check it.
Selector = Annotated[str, Field(min_length=1), AfterValidator(_css)]
Selectors = Annotated[tuple[Selector, ...], Field(strict=False)]
Patterns = Annotated[tuple[Pattern, ...], Field(strict=False)]
Words = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(strict=False)]
QueryParams = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(strict=False)]


class SiteProfile(Model):
    """Where a page's content, title, byline, date, pager, links and teasers are, and what is noise."""

    #: The main content area: the first of these that matches (else the whole body).
    content_selectors: Selectors = (
        "main article.node--type-article.node--view-mode-full",
        "main",
        "[role=main]",
        "article",
        "#content",
    )
    #: Removed from the content area before its text and links are read (page chrome, forms, widgets).
    ignore_selectors: Selectors = (
        "script", "style", "noscript", "template", "form", "nav", "header", "footer",
        "aside", ".visually-hidden", ".contextual", ".contextual-links",
        ".js-pager__items", ".pager", ".views-exposed-form", ".field--name-field-share",
    )
    #: Widgets the site recomputes inside the content area (most read, related, popular, trending; view,
    #: comment and share counters), by the words Drupal views and common themes put in their class or id:
    #: an element whose class or id contains one of these (case-insensitive) is removed like the above.
    volatile_class_words: Words = (
        "most-read", "mostread", "most-viewed", "most-shared", "most-commented", "popular", "trending",
        "related-articles", "related-content", "related-posts", "related-stories", "related-news",
        "more-like-this", "also-like", "recommended", "read-next", "statistics-counter", "view-count",
        "views-count", "comment-count", "share-count", "social-share", "sharethis", "addtoany",
    )
    #: Regular expressions; matching text is removed from the extracted text.
    ignore_text_patterns: Patterns = (
        r"Page generated (at|on) [^\n]*",
        r"Last updated:? \d{1,2}:\d{2}[^\n]*",
    )
    #: Query parameters dropped from links (globs): cache busters and trackers.
    ignore_query_params: QueryParams = (
        "t", "v", "itok", "h", "_", "utm_*", "fbclid", "gclid", "destination",
    )
    #: The title, looked for in the content area (after the noise is removed).
    title_selectors: Selectors = ("h1",)
    #: The title on the whole page, when the content area has none.
    page_title_selectors: Selectors = ("main h1", 'meta[property="og:title"]@content', "title")
    #: Removed from the end of the title (a " | Site name" suffix); "" keeps the title whole.
    title_suffix_pattern: Pattern = r"\s+[|–-]\s+[^|–-]+$"
    #: The page's own byline, on the whole page (a listing's teasers have bylines too).
    author_selectors: Selectors = (
        'meta[name="author"]@content',
        '.node--view-mode-full .field--name-field-author, a[rel~="author"]',
    )
    #: The page's publication date, on the whole page.
    date_selectors: Selectors = (
        'meta[property="article:published_time"]@content',
        'meta[name="dcterms.date"]@content',
        ".node--view-mode-full time@datetime",
    )
    #: The next page of a listing ("Show more", rel="next"): the href of the first match.
    next_page_selectors: Selectors = (
        'a[rel~="next"][href], link[rel~="next"][href]',
        ".pager__item--next a[href], .js-pager__items a[href]",
    )
    #: The links followed and recorded: hrefs of these, in the content area.
    link_selectors: Selectors = ("a[href]",)
    #: A listing's items (teasers), in the content area: every match of the first entry that finds any.
    teaser_selectors: Selectors = (
        ".view-content .views-row",
        "article.node--view-mode-teaser",
    )
    #: In a teaser: the link to the article; its href is the item's URL, its text the title.
    teaser_link_selectors: Selectors = (
        ".node__title a[href], .views-field-title a[href]",
        "h2 a[href], h3 a[href], h4 a[href]",
        "a[href]",
    )
    #: In a teaser: its date.
    teaser_date_selectors: Selectors = (
        "time@datetime",
        ".field--name-field-date, .views-field-created, .date",
    )
    #: In a teaser: its byline.
    teaser_byline_selectors: Selectors = (
        ".field--name-field-author, .views-field-field-author, .byline",
    )
    #: In a teaser: its summary.
    teaser_summary_selectors: Selectors = (
        ".field--name-body, .views-field-body, .node__summary, .field--name-field-summary",
    )

    @model_validator(mode="before")
    @classmethod
    def _add_extras(cls, data):
        """``extra_NAME = [...]`` appends to the list ``NAME`` (its default if not given)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in [key for key in data if key.startswith("extra_")]:
            name = key.removeprefix("extra_")
            field = cls.model_fields.get(name)
            if field is None or not isinstance(field.default, tuple):
                continue
            extra = data.pop(key)
            base = data.get(name, field.default)
            if isinstance(base, (list, tuple)) and isinstance(extra, (list, tuple)):
                data[name] = tuple(base) + tuple(extra)
            else:  # let the field report the wrong type
                data[name] = extra if not isinstance(extra, (list, tuple)) else base
        return data

    @classmethod
    def from_table(cls, table: dict, where: str = "[program.profile]") -> "SiteProfile":
        """A profile from a parsed TOML table; raises ConfigError naming each bad key."""
        return validate(cls, table, where)

