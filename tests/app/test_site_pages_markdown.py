"""The site pages' Markdown: nothing a writer types yields script execution, and what is allowed works
(tables, strikethrough, site links, media images, rel on external links)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conexoos.app.utils.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    EXTERNAL_REL,
    Node,
    is_allowed_image,
    outside_images,
    render,
    render_tree,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](javascript:alert(1))",
    "![x](http://tracker.example/pixel.gif)",
    "![x](/media/../admin)",
    "![x](/media/%2e%2e/admin)",
    "<javascript:alert(1)>",
    "[ref]: javascript:alert(1)\n\n[ref]",
    '[x](https://ok.example "title\\" onmouseover=\\"alert(1))',
    "| a |\n|---|\n| <b onclick=alert(1)>b</b> |",
    "<svg onload=alert(1)>",
    "<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "[x](//evil.example)",
    "[x](/\\evil.example)",
    '<div style="background:url(javascript:alert(1))">',
    "```html\n<script>alert(1)</script>\n```",
    "~~<s onclick=x>~~",
    "<!-- <script>alert(1)</script> -->",
    "&lt;script&gt;",
    "\x00<script>",
]
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")


class Collector(HTMLParser):
    """Every start tag of the output with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def parsed(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector.tags


def assert_harmless(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<svg" not in lowered, html
    for tag, attributes in parsed(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attributes:
            assert not name.startswith("on"), (name, html)
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set()), name
            text = "".join((value or "").split()).lower()
            assert not text.startswith(DANGEROUS_SCHEMES), (name, value, html)
            if name == "src":
                assert text.startswith(("/media/", "https://")), value
            if name == "href":
                assert text.startswith(("/", "#", "http://", "https://", "mailto:")), value
                assert not text.startswith("//"), value


pieces = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40), st.sampled_from(["\n", "\n\n", "|", "["]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pieces, max_size=12).map("".join))
def test_nothing_a_writer_types_yields_script(source: str) -> None:
    assert_harmless(render(source))


def tree_tags(nodes: list[Node]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if not isinstance(node, str):
            found |= {node[0]} | tree_tags(node[2])
    return found


@pytest.mark.parametrize("source", HOSTILE)
def test_each_known_attack_is_defused(source: str) -> None:
    html = render(source)
    assert_harmless(html)
    assert tree_tags(render_tree(source)) <= ALLOWED_TAGS  # what the live preview builds


def test_the_preview_tree_holds_the_same_page() -> None:
    tree = render_tree("# A & B\n\n![i](/media/x.png) [l](https://x.example) <b>")
    assert tree[0] == ["h1", {}, ["A & B"]]
    assert tree[2] == [
        "p",
        {},
        [
            ["img", {"src": "/media/x.png", "alt": "i"}, []],
            " ",
            ["a", {"href": "https://x.example", "rel": EXTERNAL_REL}, ["l"]],
            " <b>",
        ],
    ]


def test_raw_html_is_shown_as_text() -> None:
    assert render("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_tables_strikethrough_and_lists_are_rendered() -> None:
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ **bold** *it*\n\n3. three\n")
    assert "<table>" in html and "<td>1</td>" in html
    assert "<s>gone</s>" in html and "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert '<ol start="3">' in html


def test_external_links_get_rel_and_site_links_do_not() -> None:
    html = render("[out](https://example.org/x) [in](/p/terms) [top](#top) <mailto:a@example.org>")
    assert f'<a href="https://example.org/x" rel="{EXTERNAL_REL}">out</a>' in html
    assert '<a href="/p/terms">in</a>' in html
    assert '<a href="#top">top</a>' in html
    assert f'href="mailto:a@example.org" rel="{EXTERNAL_REL}"' in html


def test_images_only_from_the_sites_media() -> None:
    """Another site's image would be blocked by the CSP (img-src 'self') and would learn who reads."""
    source = "![a](/media/ab/cd.webp) ![b](https://cdn.example/i.png) ![c](http://cdn.example/i.png)"
    html = render(source)
    assert '<img src="/media/ab/cd.webp" alt="a">' in html
    assert '<img alt="b">' in html and '<img alt="c">' in html
    assert 'src="/p/x"' not in render("![d](/p/x)")
    assert outside_images(source + "\n\n![again](https://cdn.example/i.png)") == [
        "https://cdn.example/i.png",
        "http://cdn.example/i.png",
    ]


def test_a_social_image_is_site_media_or_https_without_credentials() -> None:
    assert is_allowed_image("/media/ab/cd.webp") and is_allowed_image("https://cdn.example/i.png")
    for refused in ("http://cdn.example/i.png", "https://u:p@evil.example/x.png", "/media/../x", "//x/y"):
        assert not is_allowed_image(refused), refused
