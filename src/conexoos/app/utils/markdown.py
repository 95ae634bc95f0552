"""Markdown written by the site's staff, made into HTML that is safe to show to anyone.

Two steps, each enough on its own for the common attacks, together for the rest:

1. markdown-it-py renders CommonMark with tables and strikethrough, raw HTML **off** (a ``<script>`` typed
   in a page is shown as text);
2. nh3 keeps only the tags and attributes of :data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES`, and
   :func:`_checked_attribute` keeps only the URLs a page may hold: links to ``http``, ``https`` and
   ``mailto`` or to a path of this site (``/p/terms``, ``#part``); images only from the site's own
   ``/media/...`` files (the content security policy would block another site's image, and loading it
   would tell that site who reads the page). Links leaving the site get ``rel="noopener nofollow ugc"``.
   :func:`outside_images` lists the images a text names that would be dropped, for the editor to say so.
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
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"https"})
MEDIA_PREFIX = "/media/"
VOID_TAGS = frozenset({"br", "hr", "img"})
Node = Any
"""A node of :func:`render_tree`: a text (``str``) or ``[tag, {attribute: value}, [children]]``."""
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\\\x7f]")
"""Characters a browser drops or reads as ``/`` inside a URL (``/\\evil.example`` is ``//evil.example``)."""


@functools.cache
def _renderer() -> MarkdownIt:
    """CommonMark without raw HTML, with tables and strikethrough; made at the first render."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


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
    """Whether a link may point to ``url``: a path of this site, or an http(s) or mailto URL."""
    if is_site_path(url):
        return True
    if _UNSAFE_IN_URL.search(url):
        return False
    parts = urlsplit(url)
    if parts.scheme not in LINK_SCHEMES:
        return False
    return parts.scheme == "mailto" or bool(parts.netloc)


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


def outside_images(source: str) -> list[str]:
    """The image addresses ``source`` (Markdown) names that are not the site's own media, in order."""
    found: list[str] = []
    for token in _renderer().parse(source):
        for child in token.children or ():
            src = str(child.attrGet("src") or "") if child.type == "image" else ""
            if child.type == "image" and not is_site_media(src) and src not in found:
                found.append(src)
    return found
