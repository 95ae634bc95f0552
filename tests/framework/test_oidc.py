"""OpenID Connect logins against a real provider: the certified ``oidc-provider`` package under Node.

One provider runs for the module; a small app (a bare project) registers several ``LOGINS.oidc`` entries
on it, and each test plays the browser with the Flask test client and ``requests`` at the provider.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, g
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from conexoos.framework import create_app
from conexoos.framework.config import _Validator
from conexoos.framework.errors import ConfigError
from conexoos.framework.logins import ExternalIdentity, Logins
from conexoos.framework.logins.oidc import (
    PROVIDER_SCHEMA,
    install,
    local_path,
    provider_problems,
    scope_list,
)
from conexoos.framework.schema import Entries
from tests.support.oidc_login import (
    ACCOUNTS,
    ALICE,
    BOB,
    CAROL,
    CLIENT_SECRET,
    ProviderBrowser,
    client,
    provider_entry,
)
from tests.support.oidc_server import OidcProvider, free_port, public_jwks, run_oidc_provider, signing_key

PUBLIC_URL = "http://rp.test"
BASIC_PROVIDERS = ("test", "plain", "slow", "flaky")


def callback_uri(name: str) -> str:
    return f"{PUBLIC_URL}/login/oidc/{name}/callback"


@pytest.fixture(scope="module")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The private_key_jwt client's key: a PEM file for the app, its public JWK for the provider."""
    key = RSAKey.generate_key(2048, parameters={"kid": "client-key-1"}, private=True)
    pem = key.private_key.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path_factory.mktemp("client-key") / "client.pem"
    path.write_bytes(pem)
    return path, key.as_dict(private=False)


@pytest.fixture(scope="module")
def provider(
    tmp_path_factory: pytest.TempPathFactory, client_key: tuple[Path, dict[str, Any]]
) -> Iterator[OidcProvider]:
    """The OpenID provider, with a client per authentication method."""
    clients = [
        client("conexoos-basic", [callback_uri(name) for name in BASIC_PROVIDERS], PUBLIC_URL),
        client(
            "conexoos-post",
            [callback_uri("post")],
            PUBLIC_URL,
            token_endpoint_auth_method="client_secret_post",
        ),
        client(
            "conexoos-jwt",
            [callback_uri("jwt")],
            PUBLIC_URL,
            token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [client_key[1]]},
        ),
    ]
    with run_oidc_provider(tmp_path_factory.mktemp("oidc-provider"), clients, ACCOUNTS) as running:
        yield running


@pytest.fixture(scope="module")
def completed() -> list[ExternalIdentity]:
    """Every identity the app's login handler received."""
    return []


@pytest.fixture(scope="module")
def app(
    provider: OidcProvider,
    client_key: tuple[Path, dict[str, Any]],
    completed: list[ExternalIdentity],
    tmp_path_factory: pytest.TempPathFactory,
) -> Flask:
    """A bare project with the providers installed; its handler answers the identity as JSON."""
    folder = tmp_path_factory.mktemp("oidc-app")
    (folder / "project").mkdir()
    app = create_app(
        folder / "project",
        overrides={
            "SERVER_ENV": {
                "ENV": "DEV",
                "INSTANCE_PATH": str(folder / "instance"),
                "APP_KEY": "oidc-test-key-" + "k" * 40,
                "PUBLIC_URL": PUBLIC_URL,
            }
        },
    )
    logins = Logins()
    app.extensions["conexoos"].logins = logins
    basic = {"ISSUER": provider.issuer, "CLIENT_ID": "conexoos-basic", "CLIENT_SECRET": CLIENT_SECRET}
    section = {
        "test": provider_entry(
            **basic,
            SCOPES=["openid", "email", "profile", "groups"],
            ADMIN_CLAIM="groups",
            ADMIN_VALUES=["conexoos-admins"],
            LABEL="Test provider",
        ),
        "plain": provider_entry(**basic),
        "slow": provider_entry(**basic, TIMEOUT=1),
        "flaky": provider_entry(**basic, TIMEOUT=1),
        "post": provider_entry(
            ISSUER=provider.issuer,
            CLIENT_ID="conexoos-post",
            CLIENT_SECRET=CLIENT_SECRET,
            AUTH_METHOD="client_secret_post",
        ),
        "jwt": provider_entry(
            ISSUER=provider.issuer,
            CLIENT_ID="conexoos-jwt",
            AUTH_METHOD="private_key_jwt",
            PRIVATE_KEY=str(client_key[0]),
            KEY_ID="client-key-1",
        ),
        "down": provider_entry(**{**basic, "ISSUER": f"http://127.0.0.1:{free_port()}"}, TIMEOUT=2),
        "elsewhere": provider_entry(**{**basic, "ISSUER": provider.issuer + "/"}),
    }
    install(app, logins, section)

    @logins.on_login
    def answer(identity: ExternalIdentity) -> dict[str, Any]:
        completed.append(identity)
        return {"identity": asdict(identity), "next": g.get("login_next")}

    return app


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    """A browser on the app (its own cookies)."""
    return app.test_client()


@pytest.fixture(autouse=True)
def well_behaved(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts and ends with a provider that behaves."""
    yield
    if "provider" in request.fixturenames:
        request.getfixturevalue("provider").set_mode()


def start(http: FlaskClient, name: str = "test", next_page: str | None = None) -> str:
    """Press the provider's button: the authorization URL the app redirects to."""
    answer = http.get(f"/login/oidc/{name}", query_string={"next": next_page} if next_page else None)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def come_back(http: FlaskClient, callback: str) -> Any:
    """Open the provider's redirect back to the app."""
    assert callback.startswith(PUBLIC_URL), callback
    return http.get(callback[len(PUBLIC_URL) :])


def log_in(
    http: FlaskClient, name: str = "test", account: dict[str, Any] = ALICE, next_page: str | None = None
) -> Any:
    """A whole login at provider ``name``: the app's answer to the callback."""
    authorization = start(http, name, next_page)
    callback = ProviderBrowser(PUBLIC_URL).log_in(authorization, account["username"], account["password"])
    return come_back(http, callback)


def another_browser(http: FlaskClient) -> FlaskClient:
    """A second browser on the same app (cookies of its own)."""
    return http.application.test_client()


def refused(answer: Any, status: int, words: str) -> None:
    """A failure page with ``status`` that says ``words``."""
    text = answer.get_data(as_text=True)
    assert answer.status_code == status, text
    assert words in text, text


def test_discovery_is_read_once_and_the_authorization_request_uses_pkce_state_and_nonce(
    http: FlaskClient, provider: OidcProvider
) -> None:
    before = provider.stats()["discovery"]
    first = urlsplit(start(http, "plain"))
    second = urlsplit(start(http, "plain"))
    assert provider.stats()["discovery"] - before <= 1  # the metadata is cached (read once at most)
    metadata = requests.get(provider.issuer + "/.well-known/openid-configuration", timeout=5).json()
    assert f"{first.scheme}://{first.netloc}{first.path}" == metadata["authorization_endpoint"]
    query = parse_qs(first.query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["conexoos-basic"]
    assert query["redirect_uri"] == [callback_uri("plain")]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["state"] != parse_qs(second.query)["state"]
    assert query["nonce"] != parse_qs(second.query)["nonce"]


def test_redirect_uri_comes_from_public_url_not_host(http: FlaskClient) -> None:
    answer = http.get("/login/oidc/plain", headers={"Host": "evil.example"})
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["redirect_uri"] == [callback_uri("plain")]


def test_full_login_maps_claims_and_the_admin_claim(
    http: FlaskClient, completed: list[ExternalIdentity], provider: OidcProvider
) -> None:
    answer = log_in(http, "test", ALICE, next_page="/dashboard?tab=links")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    identity = answer.get_json()["identity"]
    assert identity["backend"] == "oidc"
    assert identity["provider"] == "test"
    assert identity["subject"] == "alice-sub-1"
    assert identity["username"] == "alice"
    assert identity["email"] == "alice@example.org"
    assert identity["email_verified"] is True
    assert identity["name"] == "Alice Liddell"
    assert identity["admin"] is True
    assert identity["logout_state"]["id_token_hint"].count(".") == 2
    assert answer.get_json()["next"] == "/dashboard?tab=links"
    assert completed[-1].subject == "alice-sub-1"


def test_a_person_outside_the_admin_values_is_not_admin_and_unverified_email_stays_unverified(
    http: FlaskClient,
) -> None:
    identity = log_in(http, "test", BOB).get_json()["identity"]
    assert (identity["subject"], identity["admin"], identity["email_verified"]) == ("bob-sub-2", False, False)
    carol = log_in(another_browser(http), "test", CAROL).get_json()["identity"]
    assert (carol["admin"], carol["email"], carol["email_verified"]) == (False, "carol@example.org", False)


def test_without_admin_claim_admin_is_none_and_a_foreign_next_is_dropped(http: FlaskClient) -> None:
    answer = log_in(http, "plain", ALICE, next_page="//evil.example/phish")
    assert answer.get_json()["identity"]["admin"] is None
    assert answer.get_json()["next"] is None


@pytest.mark.parametrize("name", ["post", "jwt"])
def test_client_secret_post_and_private_key_jwt(http: FlaskClient, name: str) -> None:
    identity = log_in(http, name, ALICE).get_json()["identity"]
    assert (identity["provider"], identity["subject"]) == (name, "alice-sub-1")


def test_cancel_at_the_provider_is_access_denied(
    http: FlaskClient, completed: list[ExternalIdentity]
) -> None:
    count = len(completed)
    callback = ProviderBrowser(PUBLIC_URL).cancel(start(http))
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
    refused(come_back(http, callback), 403, "Test provider did not let you log in")
    assert len(completed) == count


def test_wrong_or_missing_state_is_refused(http: FlaskClient, completed: list[ExternalIdentity]) -> None:
    count = len(completed)
    authorization = start(http)
    callback = ProviderBrowser(PUBLIC_URL).log_in(authorization, "alice", ALICE["password"])
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    refused(come_back(http, forged), 400, "expired or was already used")
    refused(http.get("/login/oidc/test/callback?code=abc"), 400, "expired or was already used")
    # The real state came from another browser: this one never started that login.
    refused(come_back(another_browser(http), callback), 400, "expired or was already used")
    assert len(completed) == count


def test_a_replayed_callback_is_refused(http: FlaskClient, completed: list[ExternalIdentity]) -> None:
    callback = ProviderBrowser(PUBLIC_URL).log_in(start(http), "alice", ALICE["password"])
    assert come_back(http, callback).status_code == 200
    count = len(completed)
    refused(come_back(http, callback), 400, "expired or was already used")
    assert len(completed) == count


def test_a_callback_for_another_provider_is_refused(http: FlaskClient) -> None:
    callback = ProviderBrowser(PUBLIC_URL).log_in(start(http, "test"), "alice", ALICE["password"])
    refused(
        come_back(http, callback.replace("/oidc/test/", "/oidc/plain/")), 400, "expired or was already used"
    )


def test_an_answer_naming_another_issuer_is_refused(http: FlaskClient) -> None:
    callback = ProviderBrowser(PUBLIC_URL).log_in(start(http), "alice", ALICE["password"])
    assert "iss=" in callback  # RFC 9207: the provider names itself in its answer
    mixed_up = re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fimpostor.example", callback)
    refused(come_back(http, mixed_up), 400, "does not come from Test provider")


def test_a_code_the_provider_refuses(http: FlaskClient) -> None:
    callback = ProviderBrowser(PUBLIC_URL).log_in(start(http), "alice", ALICE["password"])
    bogus = re.sub(r"code=[^&]+", "code=not-a-real-code", callback)
    refused(come_back(http, bogus), 400, "refused to complete the login (invalid_grant)")


def login_with_mode(http: FlaskClient, provider: OidcProvider, **mode: Any) -> Any:
    """Log in as Alice while the provider misbehaves as ``mode`` says at the token endpoint."""
    callback = ProviderBrowser(PUBLIC_URL).log_in(start(http), "alice", ALICE["password"])
    provider.set_mode(**mode)
    return come_back(http, callback)


def test_a_tampered_id_token_is_refused(
    http: FlaskClient, provider: OidcProvider, completed: list[ExternalIdentity]
) -> None:
    count = len(completed)
    refused(login_with_mode(http, provider, tamper_id_token=True), 400, "signature is wrong")
    assert len(completed) == count


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"aud": "someone-else"}, "claims are wrong"),
        ({"aud": "someone-else", "azp": "conexoos-basic"}, "claims are wrong"),
        ({"aud": ["someone-else", "conexoos-basic"]}, "claims are wrong"),  # several audiences, no azp
        ({"aud": ["someone-else", "conexoos-basic"], "azp": "someone-else"}, "claims are wrong"),
        ({"iss": "https://impostor.example"}, "claims are wrong"),
        ({"nonce": "another-login"}, "claims are wrong"),
        ({"nonce": None}, "claims are wrong"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "has expired"),
        ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, "claims are wrong"),
    ],
    ids=[
        "wrong-audience",
        "wrong-audience-our-azp",
        "no-azp",
        "wrong-azp",
        "wrong-issuer",
        "wrong-nonce",
        "no-nonce",
        "expired",
        "future",
    ],
)
def test_an_id_token_with_wrong_claims_is_refused(
    http: FlaskClient, provider: OidcProvider, claims: dict[str, Any], words: str
) -> None:
    refused(login_with_mode(http, provider, id_token_claims=claims), 400, words)


def test_several_audiences_with_our_azp_are_accepted(http: FlaskClient, provider: OidcProvider) -> None:
    claims = {"aud": ["conexoos-basic", "an-api"], "azp": "conexoos-basic"}
    answer = login_with_mode(http, provider, id_token_claims=claims)
    assert answer.status_code == 200, answer.get_data(as_text=True)


def test_claims_come_from_the_id_token_when_it_has_them(http: FlaskClient, provider: OidcProvider) -> None:
    before = provider.stats()["userinfo"]
    assert log_in(http, "plain").status_code == 200  # oidc-provider puts only sub in the ID token
    assert provider.stats()["userinfo"] == before + 1
    claims = {
        "preferred_username": "alice-in-token",
        "email": "a@token.example",
        "name": "From Token",
        "groups": ["conexoos-admins"],
    }
    identity = login_with_mode(http, provider, id_token_claims=claims).get_json()["identity"]
    assert (identity["username"], identity["email"], identity["name"]) == tuple(claims.values())[:3]
    assert identity["admin"] is True
    assert provider.stats()["userinfo"] == before + 1  # nothing missing: no userinfo request


def test_userinfo_about_another_person_is_refused(
    http: FlaskClient, provider: OidcProvider, completed: list[ExternalIdentity]
) -> None:
    count = len(completed)
    answer = login_with_mode(http, provider, userinfo_claims={"sub": "bob-sub-2", "email": "bob@example.org"})
    refused(answer, 400, "described another person")
    assert len(completed) == count


def test_provider_down_is_a_503_page(http: FlaskClient, completed: list[ExternalIdentity]) -> None:
    refused(http.get("/login/oidc/down"), 503, "cannot be reached right now")


def test_a_discovery_document_for_another_issuer_is_refused(http: FlaskClient) -> None:
    refused(http.get("/login/oidc/elsewhere"), 503, "cannot be reached right now")


def test_a_slow_provider_is_a_503_page_and_discovery_is_tried_again(
    http: FlaskClient, provider: OidcProvider
) -> None:
    provider.set_mode(delay_ms=2500)
    refused(http.get("/login/oidc/flaky"), 503, "cannot be reached right now")
    provider.set_mode()
    assert http.get("/login/oidc/flaky").status_code == 302  # the failure was not cached


def test_a_slow_token_endpoint_is_a_503_page(
    http: FlaskClient, provider: OidcProvider, completed: list[ExternalIdentity]
) -> None:
    callback = ProviderBrowser(PUBLIC_URL).log_in(start(http, "slow"), "alice", ALICE["password"])
    count = len(completed)
    provider.set_mode(delay_ms=2500)
    started = time.monotonic()
    refused(come_back(http, callback), 503, "cannot be reached right now")
    assert time.monotonic() - started < 2.4
    assert len(completed) == count


def test_rp_initiated_logout_url_is_accepted_by_the_provider(http: FlaskClient, app: Flask) -> None:
    browser = ProviderBrowser(PUBLIC_URL)
    callback = browser.log_in(start(http), "alice", ALICE["password"])
    identity = come_back(http, callback).get_json()["identity"]
    with app.test_request_context():
        url = app.extensions["conexoos"].logins.logout_url(
            "oidc", "test", identity["logout_state"], PUBLIC_URL + "/"
        )
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["conexoos-basic"]
    assert query["post_logout_redirect_uri"] == [PUBLIC_URL + "/"]
    assert query["id_token_hint"] == [identity["logout_state"]["id_token_hint"]]
    page = browser.http.get(url, timeout=10)
    assert page.status_code == 200, page.text  # the provider's "do you want to sign out?" page
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    assert action is not None
    answer = browser.http.post(
        requests.compat.urljoin(page.url, action.group(1)),
        data={**hidden, "logout": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert browser.follow(answer).startswith(PUBLIC_URL + "/")


def test_key_rotation(http: FlaskClient, provider: OidcProvider) -> None:
    """Last in the module: the provider restarts with a new key; logins keep working after one JWKS
    refresh, and a token signed by a key the new JWKS does not hold is refused after one refresh."""
    assert log_in(http).status_code == 200  # the app has cached the first key
    provider.restart(jwks={"keys": [signing_key("key-2")]})
    before = provider.stats()["jwks"]
    answer = log_in(http)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert provider.stats()["jwks"] == before + 1
    answer = login_with_mode(http, provider, sign_with=signing_key("key-3"))
    refused(answer, 400, "signed by a key the provider does not publish")
    assert provider.stats()["jwks"] == before + 2  # one refresh, not a loop
    # Same kid as the published key, another key: a bad signature, not a refresh loop.
    impostor = {**signing_key("key-2")}
    refused(login_with_mode(http, provider, sign_with=impostor), 400, "signature is wrong")
    assert public_jwks(impostor)["keys"][0]["kid"] == "key-2"


# --- configuration (no provider needed) ------------------------------------------------------------


def validate(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    validator = _Validator(set(), [])
    result = validator.entries({"corp": entry}, Entries(PROVIDER_SCHEMA, "OIDC providers"), "LOGINS.oidc")
    return result.get("corp", {}), validator.problems


def test_schema_defaults_and_lists() -> None:
    entry, problems = validate(
        {"ISSUER": "https://sso.example.org/realms/staff", "CLIENT_ID": "c", "ADMIN_VALUES": "admins, ops"}
    )
    assert problems == []
    assert entry["SCOPES"] == ["openid", "email", "profile"]
    assert entry["USERNAME_CLAIM"] == "preferred_username"
    assert entry["ADMIN_VALUES"] == ["admins", "ops"]
    assert entry["AUTH_METHOD"] == "client_secret_basic"


@pytest.mark.parametrize(
    "issuer",
    ["http://sso.example.org", "ftp://sso.example.org", "https://sso.example.org?x=1", "sso.example.org"],
)
def test_issuer_must_be_https_except_on_localhost(issuer: str) -> None:
    _, problems = validate({"ISSUER": issuer, "CLIENT_ID": "c"})
    assert problems and "LOGINS.oidc.corp.ISSUER" in problems[0]
    assert validate({"ISSUER": "http://localhost:8080/realms/dev", "CLIENT_ID": "c"})[1] == []


@pytest.mark.parametrize(
    "written",
    [
        "openid email groups",
        "openid, email, groups",
        ["openid", "email", "groups"],
        ["openid email", "groups"],
    ],
)
def test_scopes_as_a_list_or_one_string(written: str | list[str]) -> None:
    entry, problems = validate({"ISSUER": "https://idp.example", "CLIENT_ID": "c", "SCOPES": written})
    assert problems == []
    assert scope_list(entry["SCOPES"]) == ["openid", "email", "groups"]


def test_cross_key_problems(tmp_path: Path) -> None:
    entry = provider_entry(ISSUER="https://idp.example", CLIENT_ID="c", SCOPES="email", ADMIN_CLAIM="groups")
    problems = provider_problems("bad name", entry, tmp_path)
    assert any("provider name" in problem for problem in problems)
    assert any("CLIENT_SECRET: is missing" in problem for problem in problems)
    assert any("must include openid" in problem for problem in problems)
    assert any("ADMIN_CLAIM and ADMIN_VALUES go together" in problem for problem in problems)
    jwt_entry = provider_entry(ISSUER="https://idp.example", CLIENT_ID="c", AUTH_METHOD="private_key_jwt")
    assert "PRIVATE_KEY: is missing" in provider_problems("corp", jwt_entry, tmp_path)[0]
    (tmp_path / "not-a-key.pem").write_text("hello")
    jwt_entry["PRIVATE_KEY"] = "not-a-key.pem"
    assert "holds no RSA or EC private key" in provider_problems("corp", jwt_entry, tmp_path)[0]
    jwt_entry["PRIVATE_KEY"] = "missing.pem"
    assert "cannot be read" in provider_problems("corp", jwt_entry, tmp_path)[0]


@pytest.mark.parametrize(
    "pasted",
    [
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" * 40,
    ],
)
def test_a_key_pasted_instead_of_its_path_is_never_echoed(tmp_path: Path, pasted: str) -> None:
    entry = provider_entry(
        ISSUER="https://idp.example", CLIENT_ID="c", AUTH_METHOD="private_key_jwt", PRIVATE_KEY=pasted
    )
    problems = provider_problems("corp", entry, tmp_path)
    assert problems == [
        "LOGINS.oidc.corp.PRIVATE_KEY: is not a readable file path "
        "(paste the key into a file and give its path)"
    ]
    assert "MIIE" not in " ".join(problems)


@pytest.mark.parametrize(
    "issuer",
    [
        "https://user:pa55word@sso.example.org/realms/x",
        "https://user@sso.example.org",
        "https://:pa55word@sso.example.org",
    ],
)
def test_credentials_in_the_issuer_are_refused_and_not_echoed(issuer: str) -> None:
    _, problems = validate({"ISSUER": issuer, "CLIENT_ID": "c"})
    assert problems and "LOGINS.oidc.corp.ISSUER" in problems[0] and "credentials" in problems[0]
    assert "pa55word" not in problems[0]


def test_install_refuses_a_broken_section(tmp_path: Path) -> None:
    app = Flask("bare")
    with pytest.raises(ConfigError, match="CLIENT_SECRET"):
        install(app, Logins(), {"corp": provider_entry(ISSUER="https://idp.example", CLIENT_ID="c")})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/dashboard", "/dashboard"),
        ("/a/b?c=1&d=%20", "/a/b?c=1&d=%20"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("/%2F%2Fevil.example", None),
        ("/%5cevil.example", None),
        ("/\tevil", None),
        ("https://evil.example/", None),
        ("dashboard", None),
        ("/caf\u00e9", None),
        ("", None),
        (None, None),
    ],
)
def test_next_must_be_a_plain_local_path(value: str | None, expected: str | None) -> None:
    assert local_path(value) == expected


def test_config_check_connect_fetches_each_providers_discovery_and_keys(
    provider: OidcProvider, tmp_path: Path
) -> None:
    from conexoos.framework.config import load_settings
    from conexoos.framework.connect_checks import run_connect_checks

    basic = {"ISSUER": provider.issuer, "CLIENT_ID": "conexoos-basic", "CLIENT_SECRET": CLIENT_SECRET}

    def oidc_line(providers: dict[str, Any]) -> str:
        config = tmp_path / "config.json"
        tree = {
            "SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance"), "PUBLIC_URL": PUBLIC_URL},
            "LOGINS": {"local": {}, "oidc": providers},
        }
        config.write_text(json.dumps(tree), encoding="utf-8")
        settings = load_settings(config, environ={}, report_warnings=False)
        return next(result for result in run_connect_checks(settings) if result.name == "LOGINS.oidc").line()

    assert oidc_line({"test": basic}) == "LOGINS.oidc: ok"
    slash = oidc_line({"test": basic, "slash": {**basic, "ISSUER": provider.issuer + "/"}})
    assert slash.startswith("LOGINS.oidc: FAILED: LOGINS.oidc.slash: its discovery document names the issuer")
    assert "only the trailing slash differs" in slash and "LOGINS.oidc.test" not in slash
    down = oidc_line({"down": {**basic, "ISSUER": f"http://127.0.0.1:{free_port()}", "TIMEOUT": 2}})
    assert down.startswith(
        "LOGINS.oidc: FAILED: LOGINS.oidc.down: its discovery document at http://127.0.0.1:"
    )
