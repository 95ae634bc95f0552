"""Fixtures of the product's tests: the real app (real CSRF, real SQLite) and signed-up users.

Every account is made through the real ``/signup`` form with the ``csrf_token`` it renders, and API calls
carry the ``<meta name="csrf-token">`` token of ``/dashboard`` in ``X-CSRFToken``, as the dashboard does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.test import TestResponse

from conexoos.app.controllers import accounts as accounts_controller
from conexoos.app.controllers import password_reset
from conexoos.app.models.persistent import User
from conexoos.framework.config import deep_merge
from conexoos.framework.mail import deliver_due
from tests.conftest import AppFactory, _no_fsync, base_overrides  # noqa: F401 (tests import _no_fsync from here)
from tests.fixtures.empty_database import empty_product_app
from tests.support.smtp_server import SmtpServer

PASSWORD = "correct horse battery staple"
"""A password the policy accepts for every test account (10+ characters, not common, no username)."""
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
_FORM_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
RATE_LIMITS_OFF = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": False}}}
QUIET = {"SERVER_ENV": {"LOG": {"LEVEL": "WARNING"}}}  # no access line per request in captured output
PRODUCTION_HASHER = accounts_controller.password_hasher()
"""The product's own argon2 hasher, kept for the test of its parameters before tests swap in a cheap one."""


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every test's app: the same files need compiling only once a run."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = MemoryBytecodeCache()


def form_token(response: TestResponse) -> str:
    """The hidden ``csrf_token`` of the form in an HTML page."""
    match = _FORM_TOKEN.search(response.get_data(as_text=True))
    assert match, "the page carries no csrf_token field"
    return match.group(1)


def meta_token(response: TestResponse) -> str:
    """The ``<meta name="csrf-token">`` of an HTML page."""
    match = _META_TOKEN.search(response.get_data(as_text=True))
    assert match, "the page carries no csrf-token meta"
    return match.group(1)


@dataclass
class Account:
    """A signed-up, logged-in user: their client, the page's CSRF token and their credentials."""

    client: FlaskClient
    csrf: str
    username: str
    email: str
    password: str
    id: int

    def api(self, method: str, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        """Call the JSON API as the dashboard does: JSON body and the X-CSRFToken header."""
        headers = {"X-CSRFToken": self.csrf, "Accept": "application/json", **kwargs.pop("headers", {})}
        if json is not None:
            kwargs["json"] = json
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def add_link(
        self, title: str = "Example", url: str = "https://example.com/", **fields: Any
    ) -> dict[str, Any]:
        """Create a link through the API and return its JSON."""
        response = self.api("POST", "/api/add/link", {"title": title, "url": url, **fields})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    def links(self) -> list[dict[str, Any]]:
        """The user's links, as ``GET /api/links`` lists them."""
        response = self.api("GET", "/api/links")
        assert response.status_code == 200
        return response.get_json()  # type: ignore[no-any-return]


SignUp = Callable[..., Account]
Case = TypeVar("Case")


def each(cases: Mapping[str, Case], check: Callable[[Case], object]) -> None:
    """Run ``check`` on every case and fail once, naming every case that failed (like subtests)."""
    failures = []
    for name, case in cases.items():
        try:
            check(case)
        except AssertionError as error:
            failures.append(f"{name}: {(str(error) or 'assertion failed').splitlines()[0]}")
    assert not failures, "\n".join(failures)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, but with the smallest cost: the product's 0.2 s per hash would dominate the run."""
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts_controller, "password_hasher", lambda: fast)
    monkeypatch.setattr(accounts_controller, "_DUMMY_HASH", fast.hash("conexoos-dummy-password"))


@pytest.fixture
def app(
    request: pytest.FixtureRequest, make_app: AppFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """The Conexoos product from the real factory, rate limits off, CSRF on; for a test marked
    ``empty_database``, the product on a new database of the matrix's kind with no table, never a pooled
    one (which keeps the tables of earlier tests): the revisions build it."""
    if request.node.get_closest_marker("empty_database") is None:
        yield product_app(make_app)
        return
    with empty_product_app(make_app, tmp_path_factory) as built:
        yield built


def product_app(make_app: AppFactory, overrides: dict[str, Any] | None = None) -> Flask:
    """The product with rate limits off and CSRF on, ``overrides`` applied, tables created."""
    built = make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides or {}))
    built.jinja_env.bytecode_cache = TEMPLATE_CACHE
    assert built.config.get("WTF_CSRF_ENABLED", True) is True
    return built


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An anonymous client."""
    return app.test_client()


def sign_up(app: Flask, username: str, email: str | None = None, password: str = PASSWORD) -> Account:
    """Sign ``username`` up through the real /signup form, then log in; return the logged-in account.

    Sign-up answers "check your inbox" without logging in (it must not tell a new address from a known
    one), so the account logs in through the real /login form, as a person would.
    """
    browser = app.test_client()
    token = form_token(browser.get("/signup"))
    email = email or f"{username}@example.com"
    response = browser.post(
        "/signup", data={"csrf_token": token, "email": email, "username": username, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/signup/sent")
    log_in(browser, username, password)
    dashboard = browser.get("/dashboard")
    assert dashboard.status_code == 200
    with app.app_context():
        user = User.get_by_username(username)
        assert user is not None
        user_id = user.id
    return Account(browser, meta_token(dashboard), username.lower(), email.lower(), password, user_id)


def log_in(client: FlaskClient, login: str, password: str = PASSWORD) -> None:
    """Log in through the real /login form (with its CSRF token)."""
    token = form_token(client.get("/login"))
    response = client.post("/login", data={"csrf_token": token, "login": login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


def post_signup(client: FlaskClient, username: str) -> tuple[int, str]:
    """Post the real /signup form for ``username`` (with its CSRF token); return status and page."""
    token = form_token(client.get("/signup"))
    response = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": f"{abs(hash(username))}@example.com",
            "username": username,
            "password": PASSWORD,
        },
    )
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def signed_up(app: Flask) -> SignUp:
    """``signed_up(username, email=None, password=...)`` → a logged-in :class:`Account`."""

    def make(username: str = "alice", email: str | None = None, password: str = PASSWORD) -> Account:
        return sign_up(app, username, email, password)

    return make


@pytest.fixture
def alice(signed_up: SignUp) -> Account:
    """User A."""
    return signed_up("alice")


@pytest.fixture
def bob(signed_up: SignUp) -> Account:
    """User B, a second account."""
    return signed_up("bob")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free port, stopped after the test."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app: AppFactory, smtp_server: SmtpServer) -> Flask:
    """The product sending its mail to :func:`smtp_server`."""
    return product_app(make_app, {"SERVICES": {"smtp": smtp_server.settings()}})


def deliver(app: Flask) -> None:
    """Run the reset-request task and then the outbox task once, now (as the scheduler does every few
    seconds): a "forgot password" request is only a row until the first has run."""
    with app.app_context():
        password_reset.answer_requests()
        deliver_due()


# ---------------------------------------------------------------- command-line tests


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A YAML configuration with its own SQLite file and instance folder (a module may define its own)."""
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(deep_merge(base_overrides(tmp_path), RATE_LIMITS_OFF)))
    return path


@pytest.fixture
def cli_app(make_app: AppFactory, config_file: Path) -> Flask:
    """The app a command works on (built from the same file, so its tables exist)."""
    return make_app(config=str(config_file))
