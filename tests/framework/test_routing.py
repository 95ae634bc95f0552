"""URL rules compile their URL builders at the first ``url_for``, and build what Werkzeug's own build."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import url_for
from werkzeug.routing import Map, Rule

from conexoos.framework.routing import LazyBuildRule
from tests.conftest import AppFactory
from tests.support import url_builders

RULES = [
    ("/", {}),
    ("/<username>", {"username": "maya"}),
    ("/go/<int:link_id>", {"link_id": 7, "ref": "qr"}),
    ("/static/<path:filename>", {"filename": "css/site.css", "v": "3"}),
    ("/u/<name>/page/<int:page>", {"name": "a b", "page": 2}),
]


@pytest.fixture
def werkzeug_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Werkzeug's own compile of URL builders for this test, not the run's shared one
    (tests/support/url_builders.py), under which both sides of a comparison would get one compiled builder."""
    werkzeugs = url_builders._compile_builder
    assert werkzeugs.__module__ == "werkzeug.routing.rules"  # the support module kept Werkzeug's
    monkeypatch.setattr(Rule, "_compile_builder", werkzeugs)


@pytest.mark.usefixtures("werkzeug_compile")
@pytest.mark.parametrize(("rule", "values"), RULES)
def test_a_lazy_rule_builds_the_url_werkzeugs_rule_builds(rule: str, values: dict[str, object]) -> None:
    urls, rules = [], []
    for rule_class in (Rule, LazyBuildRule):
        adapter = Map([rule_class(rule, endpoint="e", defaults=None)]).bind("example.com")
        for _ in range(2):  # the first build, then the compiled builders
            urls.append([adapter.build("e", values), adapter.build("e", values, append_unknown=False)])
        rules.append(next(adapter.map.iter_rules()))
    assert urls[0] == urls[1] == urls[2] == urls[3]
    for builder in ("_build", "_build_unknown"):  # each side compiled its own: the comparison can fail
        assert getattr(rules[0], builder).__func__ is not getattr(rules[1], builder).__func__


def test_the_builders_are_compiled_at_the_first_build_only() -> None:
    rule = LazyBuildRule("/go/<int:link_id>", endpoint="go")
    adapter = Map([rule]).bind("example.com")
    assert rule._build.__func__.__name__ == "build_first"
    assert rule._build_unknown.__func__.__name__ == "build_first"
    assert adapter.build("go", {"link_id": 3, "ref": "x"}) == "/go/3?ref=x"
    assert rule._build_unknown.__func__.__name__ != "build_first"  # Werkzeug's compiled builder now
    assert rule._build.__func__.__name__ == "build_first"  # not needed yet
    assert adapter.build("go", {"link_id": 4}, append_unknown=False) == "/go/4"
    assert rule._build.__func__.__name__ != "build_first"


def test_the_app_factory_makes_lazy_rules(make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(bare_project)
    rules = list(app.url_map.iter_rules())
    assert rules and all(isinstance(rule, LazyBuildRule) for rule in rules)
    with app.test_request_context():
        assert url_for("conexoos_readyz", v="1") == "/readyz?v=1"
