"""Markdown written by the site's staff, made into HTML that is safe to show to anyone.

Two steps, each enough on its own for the common attacks, together for the rest:

1. markdown-it-py renders CommonMark with tables and strikethrough, raw HTML **off** (a ``<script>`` typed
   in a page is shown as text);
2. nh3 keeps only the tags and attributes of :data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES`, and
   :func:`_checked_attribute` keeps only the URLs a page may hold: links to ``http``, ``https``,
   ``mailto`` and ``tel`` or to a path of this site (``/p/terms``, ``#part``); images only from the site's own
   ``/media/...`` files (the content security policy would block another site's image, and loading it
   would tell that site who reads the page). Links leaving the site get ``rel="noopener nofollow ugc"``.

What either step would drop, the editor names before saving: :func:`outside_images` (images of other
sites), :func:`refused_links` (links to what a page may not link to) and :func:`too_deep_line` (lists and
quotes nested deeper than markdown-it goes, after which it stops reading the text).
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from markupsafe import Markup

from conexoos.framework.lazy import lazy_module

# markdown-it and nh3 are imported when a site page is first rendered, not with the app (framework/lazy.py).
if TYPE_CHECKING:
    import nh3
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
else:
    nh3 = lazy_module("nh3")

EXTERNAL_REL = "noopener nofollow ugc"
ALLOWED_TAGS = frozenset(
    {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre"}
    | {"blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
IMAGE_SCHEMES = frozenset({"https"})
MEDIA_PREFIX = "/media/"
VOID_TAGS = frozenset({"br", "hr", "img"})
NESTING_MAX = 20
"""markdown-it's depth of nested blocks (each list level takes two: the list and its item). The rest of a
text that goes deeper is not rendered at all, so the editor refuses it (:func:`too_deep_line`)."""
DEEP_NESTING = NESTING_MAX * 3
Node = Any
"""A node of :func:`render_tree`: a text (``str``) or ``[tag, {attribute: value}, [children]]``."""
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\\\x7f]")
"""Characters a browser drops or reads as ``/`` inside a URL (``/\\evil.example`` is ``//evil.example``)."""


@functools.cache
def _renderer() -> MarkdownIt:
    """CommonMark without raw HTML, with tables and strikethrough; made at the first render."""
    return _markdown_it(NESTING_MAX)


@functools.cache
def _deep_reader() -> MarkdownIt:
    """A parser that reads deeper than :func:`_renderer` (still bounded: its recursion is Python's), to
    find where the renderer would stop."""
    return _markdown_it(DEEP_NESTING)


@functools.cache
def _address_reader() -> MarkdownIt:
    """:func:`_renderer`, but keeping every link and image whatever its address: markdown-it itself leaves
    ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` ones as text, which the editor must name too
    (:func:`refused_links`, :func:`outside_images`). It reads addresses; it never renders."""
    reader = _markdown_it(NESTING_MAX)
    reader.validateLink = lambda url: True  # type: ignore[method-assign]
    return reader


def _markdown_it(nesting: int) -> MarkdownIt:
    from markdown_it import MarkdownIt

    options = {"html": False, "maxNesting": nesting}
    return MarkdownIt("commonmark", options).enable(["table", "strikethrough"])


@functools.lru_cache(maxsize=32)
def render(source: str) -> Markup:
    """``source`` (Markdown) as sanitised HTML, ready to place in a template. The last few are kept: a
    published page is rendered once per process, not once per visit."""
    renderer = _renderer()
    tokens = renderer.parse(source)
    _mark_external_links(tokens)
    html = renderer.renderer.render(tokens, renderer.options, {})
    return Markup(_clean(html))  # nh3 has just sanitised it against the allow-list


def render_tree(source: str) -> list[Node]:
    """:func:`render` as a tree of nodes, for a script to build with ``createElement`` and ``textContent``
    (our scripts never parse a string as HTML)."""
    builder = _TreeBuilder()
    builder.feed(str(render(source)))
    builder.close()
    return builder.root


class _TreeBuilder(HTMLParser):
    """Turns the sanitised HTML (only :data:`ALLOWED_TAGS`, well nested) into nested lists."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Node] = []
        self._open: list[list[Node]] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        children: list[Node] = []
        self._open[-1].append([tag, {name: value or "" for name, value in attrs}, children])
        if tag not in VOID_TAGS:
            self._open.append(children)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_TAGS and len(self._open) > 1:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self._open[-1].append(data)


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        tag_attribute_values={"a": {"rel": {EXTERNAL_REL}}},
        attribute_filter=_checked_attribute,
        link_rel=None,
        url_schemes=set(LINK_SCHEMES),
        strip_comments=True,
    )


def _mark_external_links(tokens: list[Token]) -> None:
    """Give every link that is not a path of this site ``rel="noopener nofollow ugc"``."""
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open" and not is_site_path(str(child.attrGet("href") or "")):
                child.attrSet("rel", EXTERNAL_REL)


def _checked_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's filter: the attribute as it may stay, or None to drop it."""
    if tag == "a" and attribute == "href":
        return value if is_allowed_link(value) else None
    if tag == "img" and attribute == "src":
        return value if is_site_media(value) else None
    if tag == "ol" and attribute == "start":
        return value if value.isascii() and value.isdigit() and len(value) <= 9 else None
    return value


def is_site_path(url: str) -> bool:
    """Whether ``url`` is a path on this site (``/p/terms``, ``#part``), never another host."""
    if _UNSAFE_IN_URL.search(url):
        return False
    if url.startswith("#"):
        return True
    return url.startswith("/") and not url.startswith("//")


def is_allowed_link(url: str) -> bool:
    """Whether a link may point to ``url``: a path of this site, or an http(s), mailto or tel URL."""
    if is_site_path(url):
        return True
    if _UNSAFE_IN_URL.search(url):
        return False
    parts = urlsplit(url)
    if parts.scheme not in LINK_SCHEMES:
        return False
    return parts.scheme in ("mailto", "tel") or bool(parts.netloc)


def is_site_media(url: str) -> bool:
    """Whether ``url`` is one of the site's own ``/media/...`` files (no ``.``/``..`` segments)."""
    if _UNSAFE_IN_URL.search(url) or not url.startswith(MEDIA_PREFIX):
        return False
    path = urlsplit(url).path
    return not any(segment in (".", "..") for segment in unquote(path).split("/"))


def is_allowed_image(url: str) -> bool:
    """Whether a page's social image (fetched by the sites it is shared on, not by visitors' browsers) may
    be ``url``: one of the site's ``/media/...`` files, or an ``https`` address without a user or password."""
    if is_site_media(url):
        return True
    if _UNSAFE_IN_URL.search(url):
        return False
    parts = urlsplit(url)
    return parts.scheme in IMAGE_SCHEMES and bool(parts.hostname) and "@" not in parts.netloc


def too_deep_line(source: str) -> int | None:
    """The line (from 1) of the first text of ``source`` (Markdown) the renderer would not show because its
    blocks nest deeper than it reads (about ten levels of lists, or twenty of quotes); None when every text
    is shown."""
    shown = [token.content for token in _renderer().parse(source) if token.type == "inline"]
    tokens = _deep_reader().parse(source)
    read = [token for token in tokens if token.type == "inline"]
    for index, token in enumerate(read):
        if index >= len(shown) or shown[index] != token.content:
            return _line(token)
    # Deeper than even the deep reader reads: it lost the same texts as the renderer.
    bottom = next((token for token in tokens if token.level >= DEEP_NESTING - 1), None)
    return _line(bottom) if bottom is not None else None


def _line(token: Token) -> int:
    return (token.map[0] + 1) if token.map else 1


def refused_links(source: str) -> list[str]:
    """The link addresses ``source`` (Markdown) names that :func:`is_allowed_link` refuses (``../admin``,
    ``//host``, ``ftp:``...), in order: the page would show their text without a link."""
    found: list[str] = []
    for token in _address_reader().parse(source):
        for child in token.children or ():
            href = str(child.attrGet("href") or "") if child.type == "link_open" else ""
            if child.type == "link_open" and not is_allowed_link(href) and href not in found:
                found.append(href)
    return found


def site_images(source: str) -> list[str]:
    """The addresses of the site's own ``/media/...`` images ``source`` (Markdown) shows, in order."""
    return [src for src in _images(source) if is_site_media(src)]


def outside_images(source: str) -> list[str]:
    """The image addresses ``source`` (Markdown) names that are not the site's own media, in order."""
    return [src for src in _images(source) if not is_site_media(src)]


def _images(source: str) -> list[str]:
    """Every image address ``source`` (Markdown) names, each once, in order."""
    found: list[str] = []
    for token in _address_reader().parse(source):
        for child in token.children or ():
            src = str(child.attrGet("src") or "") if child.type == "image" else ""
            if child.type == "image" and src not in found:
                found.append(src)
    return found
