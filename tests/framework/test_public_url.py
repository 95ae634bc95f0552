"""``SERVER_ENV.PUBLIC_URL`` and ``external_url``: absolute URLs never come from the Host header."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from conexoos.framework.config import load_settings
from conexoos.framework.errors import ConfigError
from conexoos.framework.urls import external_url
from tests.conftest import AppFactory

KEY = "APP_KEY: " + "k" * 48


def config_problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    return raised.value.problems


def public_app(make_app: AppFactory, project: Path, public_url: str | None) -> Flask:
    server: dict[str, object] = {"BIND": {"ADDRESS": "0.0.0.0", "PORT": 8123}, "PUBLIC_URL": public_url or ""}
    app = make_app(project, {"SERVER_ENV": server})
    app.add_url_rule("/page/<name>", "page", lambda name: external_url("page", name=name))
    return app


@pytest.mark.parametrize("env", ["UAT", "PROD"])
def test_public_url_is_required_outside_dev(tmp_path: Path, env: str) -> None:
    problems = config_problems(tmp_path, f"SERVER_ENV:\n  ENV: {env}\n  {KEY}\n")
    assert problems == [
        f"SERVER_ENV.PUBLIC_URL: is empty; {env} needs the address people use "
        "(e.g. PUBLIC_URL: https://links.example.org)"
    ]


@pytest.mark.parametrize("value", ["links.example.org", "ftp://links.example.org", "https://x.org/?a=1"])
def test_a_public_url_that_is_not_an_http_address_is_refused(tmp_path: Path, value: str) -> None:
    [problem] = config_problems(tmp_path, f"SERVER_ENV:\n  ENV: PROD\n  {KEY}\n  PUBLIC_URL: '{value}'\n")
    assert problem.startswith(f"SERVER_ENV.PUBLIC_URL: {value!r}")


@pytest.mark.parametrize(
    "value", ["https://x.example/links", "https://x.example/links/", "http://x.example:8080/a"]
)
def test_a_public_url_under_a_path_is_refused(tmp_path: Path, value: str) -> None:
    """It passed, while pages linked to the host's root and mail under the path: half the links broke."""
    [problem] = config_problems(tmp_path, f"SERVER_ENV:\n  ENV: PROD\n  {KEY}\n  PUBLIC_URL: '{value}'\n")
    assert problem == (
        f"SERVER_ENV.PUBLIC_URL: {value!r} has a path; give the site's root (a site is served at the root of "
        "its host, not under a path), e.g. https://links.example.org"
    )
    root = tmp_path / "root.yml"
    root.write_text(
        f"SERVER_ENV:\n  ENV: PROD\n  {KEY}\n  PUBLIC_URL: https://x.example/\n", encoding="utf-8"
    )
    assert (
        load_settings(root, environ={}).server["PUBLIC_URL"] == "https://x.example"
    )  # the root, kept without its /


def test_a_refused_public_url_is_shown_without_its_password(tmp_path: Path) -> None:
    value = "https://u:hunter2pub@example.org"
    [problem] = config_problems(tmp_path, f"SERVER_ENV:\n  ENV: PROD\n  {KEY}\n  PUBLIC_URL: '{value}'\n")
    assert problem == (
        "SERVER_ENV.PUBLIC_URL: 'https://u:***@example.org' must not hold a query, a fragment or credentials"
    )


def test_a_forged_host_header_does_not_change_absolute_urls(make_app: AppFactory, bare_project: Path) -> None:
    app = public_app(make_app, bare_project, "https://links.example.org/")
    response = app.test_client().get("/page/maya", headers={"Host": "evil.example"})
    assert response.get_data(as_text=True) == "https://links.example.org/page/maya"


def test_under_dev_the_default_is_the_bound_address(make_app: AppFactory, bare_project: Path) -> None:
    app = public_app(make_app, bare_project, None)
    response = app.test_client().get("/page/maya", headers={"Host": "evil.example"})
    assert response.get_data(as_text=True) == "http://localhost:8123/page/maya"


def test_templates_can_build_external_urls(make_app: AppFactory, bare_project: Path) -> None:
    app = public_app(make_app, bare_project, "https://links.example.org")
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        rendered = app.jinja_env.from_string("{{ external_url('page', name='a b') }}").render()
    assert rendered == "https://links.example.org/page/a%20b"


def test_external_urls_are_built_for_a_request_whose_host_flask_refused(
    make_app: AppFactory, bare_project: Path
) -> None:
    """Such a request has no URL adapter (``url_for`` failed with an AttributeError): the URL is built
    from the URL map, as outside a request."""
    app = public_app(make_app, bare_project, "https://links.example.org")
    app.config["TRUSTED_HOSTS"] = ["links.example.org"]
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert external_url("page", name="a b") == "https://links.example.org/page/a%20b"


def test_the_public_url_is_kept_as_browsers_compare_it(make_app: AppFactory, bare_project: Path) -> None:
    """`HTTP://LocalHost:46109/` was used as typed: in canonical links, og:url, mails and logs."""
    app = public_app(make_app, bare_project, "HTTP://LocalHost:46109/")
    assert app.extensions["conexoos"].settings.server["PUBLIC_URL"] == "http://localhost:46109"
    assert app.test_client().get("/page/x").get_data(as_text=True) == "http://localhost:46109/page/x"


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://Links.Example.ORG:443/", "https://links.example.org"),
        ("http://10.0.0.5:80", "http://10.0.0.5"),
        ("https://[0:0::1]:8443", "https://[::1]:8443"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://localhost:4200", "http://localhost:4200"),
    ],
)
def test_the_public_url_is_stored_normalised(tmp_path: Path, value: str, kept: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text(f"SERVER_ENV:\n  PUBLIC_URL: '{value}'\n", encoding="utf-8")
    assert load_settings(path, environ={}).server["PUBLIC_URL"] == kept


@pytest.mark.parametrize("host", ["links_example.org", "-bad-.example.org", "a..example.org", "256.1.1.1"])
def test_a_public_url_whose_host_is_no_dns_name_is_refused(tmp_path: Path, host: str) -> None:
    problems = config_problems(tmp_path, f"SERVER_ENV:\n  PUBLIC_URL: https://{host}\n")
    assert problems == [
        f"SERVER_ENV.PUBLIC_URL: 'https://{host}': the host {host!r} is not valid; expected a DNS name "
        "(letters, digits and hyphens in dot-separated labels, none starting or ending with a hyphen), an IP "
        "address, [an IPv6 address] or localhost"
    ]


def test_a_public_url_with_brackets_around_no_ipv6_address_is_refused(tmp_path: Path) -> None:
    problems = config_problems(tmp_path, "SERVER_ENV:\n  PUBLIC_URL: 'https://[links.example.org]'\n")
    assert problems == [
        "SERVER_ENV.PUBLIC_URL: 'https://[links.example.org]': its host in brackets is not an IPv6 address"
    ]


def test_a_public_url_on_port_0_is_refused(tmp_path: Path) -> None:
    """It was kept with port 0, to which no browser connects."""
    problems = config_problems(tmp_path, "SERVER_ENV:\n  PUBLIC_URL: 'https://links.example.org:0'\n")
    assert problems == ["SERVER_ENV.PUBLIC_URL: 'https://links.example.org:0' has an invalid port"]


def test_a_public_url_whose_punycode_decodes_to_no_name_is_refused(tmp_path: Path) -> None:
    """xn--zz is no A-label (idna.decode fails): browsers refuse the host, and config check said OK."""
    [problem] = config_problems(tmp_path, "SERVER_ENV:\n  PUBLIC_URL: 'https://xn--zz.example'\n")
    assert problem.startswith(
        "SERVER_ENV.PUBLIC_URL: 'https://xn--zz.example': the host 'xn--zz.example' is not a valid "
        "international domain name ("
    )


def test_a_public_url_in_punycode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("SERVER_ENV:\n  PUBLIC_URL: 'https://xn--bcher-kva.example:8443'\n", encoding="utf-8")
    assert load_settings(path, environ={}).server["PUBLIC_URL"] == "https://xn--bcher-kva.example:8443"
