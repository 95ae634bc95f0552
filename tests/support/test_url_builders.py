"""The tests' shared URL builders (tests/support/url_builders.py) build what Werkzeug's own would."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, Map, Rule

from tests.support import url_builders


class Upper(BaseConverter):
    def to_url(self, value: Any) -> str:
        return str(value).upper()


class Lower(BaseConverter):
    def to_url(self, value: Any) -> str:
        return str(value).lower()


def build(rule: Rule, converters: dict[str, type[BaseConverter]] | None = None, **values: Any) -> str:
    adapter = Map([rule], converters=converters).bind("example.org")
    return adapter.build("page", values)


def test_the_shared_builders_are_in_use() -> None:
    assert Rule._compile_builder is url_builders._compile_once


def test_twin_rules_share_one_compiled_builder_and_build_alike() -> None:
    first, second = Rule("/u/<name>/links", endpoint="page"), Rule("/u/<name>/links", endpoint="page")
    one, other = Map([first]).bind("example.org"), Map([second]).bind("example.org")
    values = {"name": "Ana B"}
    assert one.build("page", values) == other.build("page", values) == "/u/Ana%20B/links"
    assert first._build_unknown.__func__ is second._build_unknown.__func__  # type: ignore[attr-defined]
    assert other.build("page", {"name": "x", "page": 2}) == "/u/x/links?page=2"  # unknown: query string


def test_a_default_for_a_part_of_the_rule_is_not_taken_from_a_twin() -> None:
    one = Rule("/page/<int:number>", endpoint="page", defaults={"number": 1})
    two = Rule("/page/<int:number>", endpoint="page", defaults={"number": 2})
    assert (build(one), build(two)) == ("/page/1", "/page/2")


def test_each_rule_converts_with_its_own_map_s_converter() -> None:
    shouting = build(Rule("/c/<case:word>", endpoint="page"), {"case": Upper}, word="MiXed")
    quiet = build(Rule("/c/<case:word>", endpoint="page"), {"case": Lower}, word="MiXed")
    assert (shouting, quiet) == ("/c/MIXED", "/c/mixed")


def test_rules_that_differ_only_in_their_defaults_names_keep_their_own_signatures() -> None:
    plain = Rule("/feed", endpoint="page")
    with_default = Rule("/feed", endpoint="page", defaults={"format": "rss"})
    assert build(plain, format="atom") == "/feed?format=atom"
    assert build(with_default, format="rss") == "/feed"
