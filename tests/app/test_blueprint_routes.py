"""The blueprints registered lazily (``server/web.py``, ``server/ws.py``, ``server/blueprint_routes.py``)
give the app what importing them with it gave: the same URL map, and once installed the same blueprints,
views, hooks and error handlers; the route table is current; and the first request of a blueprint runs
its hooks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from flask import Blueprint, Flask, url_for

from conexoos.app.server import web, ws
from conexoos.app.server.blueprint_routes import BLUEPRINTS, TABLE
from conexoos.framework import lazy_blueprints
from conexoos.framework.lazy_blueprints import LazyBlueprint, load_all_blueprints, record_blueprint
from tests.conftest import AppFactory

from .conftest import product_app


def test_the_route_table_holds_the_blueprints_current_rules() -> None:
    """Fails after a route of a lazy blueprint changed: run the command the table's docstring gives."""
    assert {name: record_blueprint(lazy.reference, TABLE) for name, lazy in BLUEPRINTS.items()} == BLUEPRINTS


@pytest.fixture
def eager_app(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The product with every blueprint imported and registered with the app, as before."""
    register = lazy_blueprints.register_blueprints

    def register_eagerly(app: Flask, blueprints: Iterable[Blueprint | LazyBlueprint]) -> None:
        register(app, [item.load() if isinstance(item, LazyBlueprint) else item for item in blueprints])

    monkeypatch.setattr(web, "register_blueprints", register_eagerly)
    monkeypatch.setattr(ws, "register_blueprints", register_eagerly)
    return product_app(make_app)


def test_the_url_map_is_the_eager_one(app: Flask, eager_app: Flask) -> None:
    assert _rules(app) == _rules(eager_app)
    assert list(app.blueprints) == list(eager_app.blueprints)
    plain = [rule.endpoint for rule in app.url_map.iter_rules() if not rule.arguments]
    with app.test_request_context():
        built = [url_for(endpoint) for endpoint in plain]
    with eager_app.test_request_context():
        assert built == [url_for(endpoint) for endpoint in plain]


def test_installed_blueprints_are_registered_as_eager_ones(app: Flask, eager_app: Flask) -> None:
    assert any(
        app.view_functions[endpoint] is not view for endpoint, view in eager_app.view_functions.items()
    )
    load_all_blueprints(app)
    assert app.blueprints == eager_app.blueprints
    assert _views(app) == _views(eager_app)
    for hooks in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs"):
        assert _hooks(app, hooks) == _hooks(eager_app, hooks), hooks
    assert dict(app.error_handler_spec) == dict(eager_app.error_handler_spec)
    assert _hooks(app, "template_context_processors") == _hooks(eager_app, "template_context_processors")
    assert _hooks(app, "url_default_functions") == _hooks(eager_app, "url_default_functions")
    # a lazy blueprint's URL value preprocessors: its installer, then its own
    preprocessors = {name: list(functions) for name, functions in app.url_value_preprocessors.items()}
    for name in BLUEPRINTS:
        assert preprocessors.pop(name)[0].__qualname__.endswith("install")
        preprocessors[name] = app.url_value_preprocessors[name][1:]
    assert _hooks_of(preprocessors) == _hooks(eager_app, "url_value_preprocessors")


def test_a_first_request_installs_its_blueprint_and_runs_its_hooks(app: Flask) -> None:
    """``/admin/users`` answers 404 to a visitor through the admin blueprint's own before-request guard
    (``staff_only``) too; here the app-wide role check is taken out to see that guard run."""
    pending = app.extensions[lazy_blueprints.EXTENSION].blueprints
    app.before_request_funcs[None] = [
        hook for hook in app.before_request_funcs[None] if hook.__name__ != "refuse_without_role"
    ]
    assert "admin" in pending
    response = app.test_client().get("/admin/users")
    assert response.status_code == 404
    assert "admin" not in pending
    assert app.before_request_funcs["admin"] == app.blueprints["admin"].before_request_funcs[None]


def test_a_405_on_a_staff_url_no_request_installed_is_a_404(app: Flask) -> None:
    """The role check of a method the URL does not take reads the roles of the route it would reach:
    the admin blueprint is installed for it, so that the 405 does not confirm the staff URL."""
    assert "admin" in app.extensions[lazy_blueprints.EXTENSION].blueprints
    response = app.test_client().put("/admin/users")
    assert response.status_code == 404


def test_a_csrf_exempt_view_is_exempt_at_its_blueprints_first_request(app: Flask) -> None:
    """``capture.sign_up`` is ``csrf.exempt`` (it checks the post's origin itself): its first post, in a
    fresh app, is judged by the view (no such block: 404), not refused by the CSRF check (400)."""
    assert "capture" in app.extensions[lazy_blueprints.EXTENSION].blueprints
    app.config["WTF_CSRF_ENABLED"] = True
    origin = app.extensions["conexoos"].settings.server.get("PUBLIC_URL") or "http://localhost"
    response = app.test_client().post(
        "/capture/999", data={"email": "a@example.com"}, headers={"Origin": origin}
    )
    assert response.status_code == 404


def _rules(app: Flask) -> list[tuple[Any, ...]]:
    return [
        (
            rule.rule,
            rule.endpoint,
            sorted(rule.methods or ()),
            rule.defaults,
            rule.subdomain,
            rule.host,
            rule.strict_slashes,
            rule.merge_slashes,
            rule.redirect_to,
            rule.alias,
            rule.websocket,
        )
        for rule in app.url_map.iter_rules()
    ]


def _hooks(app: Flask, attribute: str) -> dict[Any, list[Any]]:
    """The blueprints' functions, and the names of the app's own (some are made per app)."""
    return _hooks_of(getattr(app, attribute))


def _hooks_of(functions_by_name: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
    hooks = {name: functions for name, functions in functions_by_name.items() if functions}
    if None in hooks:
        hooks[None] = [function.__qualname__ for function in hooks[None]]
    return hooks


def _views(app: Flask) -> dict[str, Any]:
    """The view functions, but the static files' (each app makes its own: framework/static_files.py)."""
    return {
        endpoint: view
        for endpoint, view in app.view_functions.items()
        if endpoint.rpartition(".")[2] != "static"
    }
