"""``LOGINS.saml`` against a real SAML identity provider (pysaml2's IdP in its own process).

The service provider is the small project of :mod:`tests.support.saml_app`, driven by Flask's test client
at http://localhost; the IdP is driven with requests, as a browser would: GET the AuthnRequest URL, post
the login form, and post the form it answers with back to /saml/acs.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import xmlschema
from flask import Flask
from flask.testing import FlaskClient

from conexoos.framework.logins.registry import Logins
from tests.framework.helpers import free_port
from tests.support.saml_app import saml_project, saml_section
from tests.support.saml_idp import SamlIdp, run_saml_idp, write_key_pair

METADATA_XSD = "saml-schema-metadata-2.0.xsd"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdp]:
    """One test IdP for the module."""
    with run_saml_idp(tmp_path_factory.mktemp("idp")) as running:
        yield running


@pytest.fixture(scope="module")
def sp_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The service provider's key and certificate (PEM files)."""
    return write_key_pair(tmp_path_factory.mktemp("sp"), "sp", "localhost")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saml_project(tmp_path_factory.mktemp("saml_project"))


@pytest.fixture
def saml_app(
    make_app: Callable[..., Flask], project: Path, idp: SamlIdp, sp_keys: tuple[Path, Path]
) -> Callable[..., Flask]:
    """Build the project with ``LOGINS.saml`` pointing at the test IdP (its metadata URL unless told)."""

    def build(metadata: str | None = None, **extra: Any) -> Flask:
        section = saml_section(metadata or idp.metadata_url, *sp_keys, **extra)
        return make_app(project, overrides={"LOGINS": {"saml": section}})

    return build


@pytest.fixture(scope="module")
def registered(
    idp: SamlIdp, project: Path, sp_keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The IdP trusts the SP at http://localhost (registered once with the SP's own metadata)."""
    from conexoos.framework import create_app
    from tests.conftest import base_overrides

    folder = tmp_path_factory.mktemp("register")
    overrides = base_overrides(folder)
    overrides["LOGINS"] = {"saml": saml_section(idp.metadata_url, *sp_keys)}
    app = create_app(project, overrides=overrides)
    answer = app.test_client().get("/saml/metadata")
    assert answer.status_code == 200, answer.text
    idp.register_sp(answer.data)


@pytest.fixture
def app(saml_app: Callable[..., Flask], registered: None) -> Flask:
    return saml_app()


def start_login(client: FlaskClient, next_path: str = "/me") -> str:
    """GET /saml/login: the IdP URL the browser is sent to."""
    answer = client.get(f"/saml/login?next={next_path}")
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"]


def idp_answer(
    client: FlaskClient, idp: SamlIdp, username: str = "ada", mode: str = "normal"
) -> dict[str, str]:
    """Start a login at the SP, log in at the IdP: the form fields the IdP posts to the ACS."""
    browser = requests.Session()
    login_page = browser.get(start_login(client), timeout=10)
    assert login_page.status_code == 200, login_page.text
    return idp.log_in(browser, login_page, username=username, mode=mode)


def post_acs(client: FlaskClient, fields: dict[str, str]) -> Any:
    return client.post("/saml/acs", data=fields)


def test_a_full_login_maps_the_attributes_and_the_admin_group(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    fields = idp_answer(client, idp)
    assert fields["RelayState"] == "/me"
    answer = post_acs(client, fields)
    assert answer.status_code == 303 and answer.headers["Location"] == "/me"
    me = client.get("/me").get_json()
    assert me["user"] == {
        "subject": "ada-persistent-7f3c",
        "username": "ada",
        "email": "ada@example.org",
        "email_verified": True,
        "name": "Ada Lovelace",
        "admin": True,
        "backend": "saml",
        "provider": "saml",
    }
    assert me["logout_state"]["name_id"] == "ada-persistent-7f3c"
    assert me["logout_state"]["session_index"]


def test_the_identity_providers_post_passes_a_projects_csrf_protection(
    make_app: Callable[..., Flask], project: Path, idp: SamlIdp, sp_keys: tuple[Path, Path], registered: None
) -> None:
    """The IdP's cross-site POST carries no CSRF token: with SERVER_ENV.CSRF.ENABLED the ACS is exempted
    (InResponseTo, checked against the session, does that work), and the login completes."""
    section = saml_section(idp.metadata_url, *sp_keys)
    app = make_app(
        project, overrides={"LOGINS": {"saml": section}, "SERVER_ENV": {"CSRF": {"ENABLED": True}}}
    )
    assert "csrf" in app.extensions
    client = app.test_client()
    answer = post_acs(client, idp_answer(client, idp))
    assert answer.status_code == 303 and answer.headers["Location"] == "/me"
    assert logged_in_user(client)["username"] == "ada"


def test_an_encrypted_assertion_is_decrypted_with_the_sp_key(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    fields = idp_answer(client, idp, mode="encrypted")
    assert "EncryptedAssertion" in base64.b64decode(fields["SAMLResponse"]).decode()
    assert post_acs(client, fields).status_code == 303
    assert logged_in_user(client)["email"] == "ada@example.org"


def test_a_person_outside_the_admin_values_is_not_admin(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    post_acs(client, idp_answer(client, idp, username="bob"))
    assert client.get("/me").get_json()["user"]["admin"] is False


def assert_refused(answer: Any, status: int = 400, words: str = "") -> None:
    """A failure page a person can read, with the status; never a 500."""
    assert answer.status_code == status, answer.text
    assert "text/html" in answer.headers["Content-Type"]
    assert words in answer.text


def logged_in_user(client: FlaskClient) -> Any:
    return client.get("/me").get_json()["user"]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("unsigned", "Signature missing for assertion"),
        ("encrypted-unsigned", "Signature missing for assertion"),
        ("other-key", "signature"),
        ("wrong-audience", "AudienceRestrictions"),
        ("other-issuer", "stranger.example"),
        ("wrong-recipient", "not in return addresses"),
        ("expired", "Condition"),
        ("sha1", "weak algorithms"),
        ("sha1-digest", "weak algorithms"),
    ],
)
def test_an_assertion_that_fails_a_check_is_refused_and_logs_why(
    app: Flask, idp: SamlIdp, mode: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    fields = idp_answer(client, idp, mode=mode)
    with caplog.at_level(logging.WARNING, logger="conexoos.logins.saml"):
        answer = post_acs(client, fields)
    assert_refused(answer, 400, "could not be accepted")
    assert logged_in_user(client) is None
    assert reason.lower() in caplog.text.lower()


def test_the_identity_provider_saying_no_is_a_403_page(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    answer = post_acs(client, idp_answer(client, idp, mode="deny"))
    assert_refused(answer, 403, "did not confirm your login")
    assert logged_in_user(client) is None


def test_the_same_response_posted_twice_is_refused(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    fields = idp_answer(client, idp)
    assert post_acs(client, fields).status_code == 303
    assert_refused(post_acs(client, fields), 400, "log in again")  # same browser, same session
    client.post("/logout")
    # After logout the browser has no session cookie: the ACS first asks it to post again from this site.
    assert post_acs(client, fields).status_code == 200
    assert_refused(post_acs(client, {**fields, "conexoos_saml_resent": "1"}), 400, "log in again")
    assert logged_in_user(client) is None


def test_a_replayed_assertion_id_is_refused_even_for_a_new_request(
    app: Flask, idp: SamlIdp, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    assert post_acs(client, idp_answer(client, idp, mode="fixed-id")).status_code == 303
    client.post("/logout")
    other = app.test_client()
    fields = idp_answer(other, idp, mode="fixed-id")  # a new, solicited response reusing the assertion id
    with caplog.at_level(logging.WARNING, logger="conexoos.logins.saml"):
        assert_refused(post_acs(other, fields), 400, "already used")
    assert "replay refused" in caplog.text
    assert logged_in_user(other) is None


def test_the_replay_store_is_shared_by_apps_on_the_same_instance_folder(
    saml_app: Callable[..., Flask], registered: None, idp: SamlIdp
) -> None:
    first, second = saml_app(), saml_app()  # two workers of one host: one instance folder
    client = first.test_client()
    fields = idp_answer(client, idp, mode="fixed-id")
    other = second.test_client()
    replay = idp_answer(other, idp, mode="fixed-id")
    assert post_acs(client, fields).status_code == 303
    assert_refused(post_acs(other, replay), 400, "already used")


def test_the_replay_store_is_redis_when_it_is_configured(
    make_app: Callable[..., Flask], project: Path, idp: SamlIdp, sp_keys: tuple[Path, Path], registered: None
) -> None:
    from tests.support.services import require_redis

    redis_entry = require_redis()
    section = saml_section(idp.metadata_url, *sp_keys)
    app = make_app(project, overrides={"LOGINS": {"saml": section}, "SERVICES": {"redis": redis_entry}})
    client = app.test_client()
    assert post_acs(client, idp_answer(client, idp, mode="fixed-id")).status_code == 303
    other = app.test_client()
    assert_refused(post_acs(other, idp_answer(other, idp, mode="fixed-id")), 400, "already used")
    runtime = app.extensions["conexoos"]
    keys = runtime.services.redis.keys(runtime.settings.key_prefix + "saml:assertion:*")
    assert keys and all(0 < runtime.services.redis.ttl(key) <= 16 * 60 + 120 for key in keys)


def test_an_unsolicited_response_is_refused(app: Flask, idp: SamlIdp) -> None:
    victim = app.test_client()
    fields = idp_answer(victim, idp)
    attacker = app.test_client()
    answer = attacker.post("/saml/acs", data={**fields, "conexoos_saml_resent": "1"})
    assert_refused(answer, 400, "not started from this browser")
    assert logged_in_user(attacker) is None
    assert post_acs(victim, fields).status_code == 303  # the real browser still logs in


def test_a_response_answering_another_browsers_request_is_refused(app: Flask, idp: SamlIdp) -> None:
    victim, attacker = app.test_client(), app.test_client()
    fields = idp_answer(victim, idp)
    start_login(attacker)  # the attacker has an outstanding request of its own, not this one
    assert_refused(post_acs(attacker, fields), 400, "log in again")
    assert logged_in_user(attacker) is None


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"SAMLResponse": ""},
        {"SAMLResponse": "not base64 at all %%%"},
        {"SAMLResponse": base64.b64encode(b"<not-saml/>").decode()},
        {"SAMLResponse": base64.b64encode(b"\x00\xff garbage").decode()},
        {
            "SAMLResponse": base64.b64encode(
                b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"
            ).decode()
        },
    ],
)
def test_garbage_posted_to_the_acs_is_a_400_page(app: Flask, idp: SamlIdp, fields: dict[str, str]) -> None:
    client = app.test_client()
    start_login(client)
    assert_refused(client.post("/saml/acs", data=fields), 400)
    assert logged_in_user(client) is None


def test_a_post_without_the_session_cookie_is_posted_again_from_this_site(app: Flask, idp: SamlIdp) -> None:
    """A SameSite=Lax session cookie is not sent with the IdP's cross-site POST: the ACS answers with a page
    that posts the same answer from this site, so that the cookie comes along."""
    client = app.test_client()
    fields = idp_answer(client, idp)
    cookieless = app.test_client()
    page = cookieless.post("/saml/acs", data=fields)
    assert page.status_code == 200
    assert "script-src 'sha256-" in page.headers["Content-Security-Policy"]
    assert 'name="conexoos_saml_resent" value="1"' in page.text
    assert "<script>document.getElementById('resend').submit();</script>" in page.text
    from tests.support.saml_idp import post_form_fields

    resent = post_form_fields(page.text)
    assert resent["SAMLResponse"] == fields["SAMLResponse"]
    assert post_acs(client, resent).status_code == 303
    assert logged_in_user(client)["username"] == "ada"


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/me", "/me"),
        ("//evil.example/x", ""),
        ("https://evil.example/", ""),
        ("/\\evil.example", ""),
        ("/%2f%2fevil.example", ""),
        ("/" + "x" * 100, ""),  # RelayState is limited to 80 bytes; the session still holds it
    ],
)
def test_the_relay_state_is_a_local_path_only(
    app: Flask, idp: SamlIdp, next_path: str, expected: str
) -> None:
    client = app.test_client()
    location = start_login(client, next_path)
    assert parse_qs(urlsplit(location).query).get("RelayState", [""]) == [expected]


def test_a_next_path_longer_than_relay_state_allows_is_kept_in_the_session(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    long_path = "/me?tab=" + "x" * 100
    browser = requests.Session()
    login_page = browser.get(start_login(client, long_path), timeout=10)
    fields = idp.log_in(browser, login_page)
    assert "RelayState" not in fields or fields["RelayState"] == ""
    answer = post_acs(client, fields)
    assert answer.status_code == 303 and answer.headers["Location"] == long_path


def test_the_authn_request_is_signed_and_asks_for_a_persistent_name_id(app: Flask, idp: SamlIdp) -> None:
    query = parse_qs(urlsplit(start_login(app.test_client())).query)
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"] and query["Signature"]
    request_xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    assert 'AssertionConsumerServiceURL="http://localhost/saml/acs"' in request_xml
    assert "nameid-format:persistent" in request_xml


@functools.cache
def metadata_schema() -> xmlschema.XMLSchema:
    """The OASIS SAML 2.0 metadata schema, from pysaml2's copies of the XSDs (no network)."""
    import saml2.data.schemas

    folder = Path(saml2.data.schemas.__file__).parent
    locations = {
        "http://www.w3.org/XML/1998/namespace": str(folder / "xml.xsd"),
        "http://www.w3.org/2000/09/xmldsig#": str(folder / "xmldsig-core-schema.xsd"),
        "http://www.w3.org/2001/04/xmlenc#": str(folder / "xenc-schema.xsd"),
        "urn:oasis:names:tc:SAML:2.0:assertion": str(folder / "saml-schema-assertion-2.0.xsd"),
    }
    return xmlschema.XMLSchema(str(folder / METADATA_XSD), locations=locations, allow="sandbox")


@pytest.mark.parametrize("signed", [False, True])
def test_the_sp_metadata_is_valid_against_the_saml_metadata_schema(
    saml_app: Callable[..., Flask], signed: bool
) -> None:
    answer = saml_app(SIGN_METADATA=signed).test_client().get("/saml/metadata")
    assert answer.status_code == 200
    assert answer.mimetype == "application/samlmetadata+xml"
    document = answer.data.decode()
    metadata_schema().validate(document)
    assert 'entityID="http://localhost/saml/metadata"' in document
    assert 'Location="http://localhost/saml/acs"' in document
    assert 'Location="http://localhost/saml/sls"' in document
    assert "<ds:X509Certificate>" in document or "X509Certificate>" in document
    assert ("SignatureValue" in document) is signed


def test_the_metadata_schema_check_can_fail() -> None:
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        metadata_schema().validate(
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">'
            "<md:Nonsense/></md:EntityDescriptor>"
        )


def test_idp_metadata_from_a_url_is_cached_and_used_when_the_idp_is_down_at_the_next_start(
    saml_app: Callable[..., Flask], tmp_path: Path
) -> None:
    with run_saml_idp(tmp_path / "short-lived-idp") as short_lived:
        first = saml_app(short_lived.metadata_url)
        cached = list((Path(first.instance_path) / "saml").glob("idp-metadata-*.xml"))
        assert len(cached) == 1 and short_lived.entity_id in cached[0].read_text()
    second = saml_app(short_lived.metadata_url)  # same instance folder, the IdP is gone
    location = start_login(second.test_client())
    assert location.startswith(f"{short_lived.url}/sso/redirect?SAMLRequest=")


def test_an_unreachable_idp_without_a_cache_starts_and_answers_503_until_it_is_back(
    saml_app: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conexoos.framework.logins import saml_metadata

    monkeypatch.setattr(saml_metadata, "RETRY_SECONDS", 0.0)
    port = free_port()
    app = saml_app(f"http://127.0.0.1:{port}/metadata")
    client = app.test_client()
    assert_refused(client.get("/saml/login"), 503, "Try again in a few minutes")
    own = client.get("/saml/metadata")  # our own metadata does not depend on the IdP's
    assert own.status_code == 200 and 'entityID="http://localhost/saml/metadata"' in own.text
    assert_refused(client.post("/saml/acs", data={"SAMLResponse": "eA==", "conexoos_saml_resent": "1"}), 503)
    with run_saml_idp(tmp_path / "late-idp", port=port) as late:
        assert start_login(client).startswith(f"{late.url}/sso/redirect?")


def test_a_stale_cached_copy_is_fetched_again(
    saml_app: Callable[..., Flask], idp: SamlIdp, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    app = saml_app(IDP_METADATA_MAX_AGE=60)
    cached = next((Path(app.instance_path) / "saml").glob("idp-metadata-*.xml"))
    os.utime(cached, (1, 1))
    with caplog.at_level(logging.INFO, logger="conexoos.logins.saml"):
        start_login(app.test_client())
    assert "fetched" in caplog.text
    assert cached.stat().st_mtime > 1


def test_a_metadata_file_is_read_as_it_is(saml_app: Callable[..., Flask], idp: SamlIdp) -> None:
    app = saml_app(str(idp.metadata_file))
    assert start_login(app.test_client()).startswith(f"{idp.url}/sso/redirect?")
    assert not (Path(app.instance_path) / "saml").exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"IDP_METADATA": "/nowhere/idp.xml"}, "LOGINS.saml.IDP_METADATA: /nowhere/idp.xml is not a file"),
        ({"IDP_METADATA": "http://idp.example.org/metadata"}, "plain http"),
        (
            {"SP_CERT": "/nowhere/sp.crt"},
            "LOGINS.saml.SP_CERT: /nowhere/sp.crt is not a readable PEM certificate",
        ),
        ({"SP_KEY": "OTHER_KEY"}, "LOGINS.saml.SP_KEY: the key does not match the certificate SP_CERT"),
        ({"SP_KEY": ""}, "LOGINS.saml.SP_KEY: is missing; SP_CERT and SP_KEY go together"),
        ({"SP_CERT": "NOT_PEM"}, "is not a readable PEM certificate"),
        ({"IDP_ENTITY_ID": "https://other.example/idp"}, "LOGINS.saml.IDP_ENTITY_ID"),
    ],
)
def test_a_configuration_mistake_names_the_key(
    saml_app: Callable[..., Flask], extra: dict[str, str], words: str, tmp_path: Path
) -> None:
    from conexoos.framework.errors import ConfigError

    if extra.get("SP_KEY") == "OTHER_KEY":
        extra = {"SP_KEY": str(write_key_pair(tmp_path, "other", "other")[0])}
    if extra.get("SP_CERT") == "NOT_PEM":
        (tmp_path / "not.pem").write_text("hello")
        extra = {"SP_CERT": str(tmp_path / "not.pem")}
    with pytest.raises(ConfigError) as raised:
        saml_app(**extra)
    assert words in str(raised.value)


def test_the_section_needs_the_metadata(make_app: Callable[..., Flask], project: Path) -> None:
    from conexoos.framework.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        make_app(project, overrides={"LOGINS": {"saml": {"LABEL": "SSO"}}})
    assert "LOGINS.saml.IDP_METADATA: is missing" in str(raised.value)


def test_without_a_key_pair_nothing_is_signed_and_single_logout_is_off(
    make_app: Callable[..., Flask], project: Path, idp: SamlIdp, caplog: pytest.LogCaptureFixture
) -> None:
    """flask-framework's SAML2 had no SP key pair: the site still starts, with a warning."""
    with caplog.at_level(logging.WARNING):
        app = make_app(project, overrides={"LOGINS": {"saml": {"IDP_METADATA": idp.metadata_url}}})
    assert "without SP_CERT and SP_KEY the AuthnRequests are not signed" in caplog.text
    client = app.test_client()
    query = parse_qs(urlsplit(start_login(client)).query)
    assert "Signature" not in query and query["SAMLRequest"]
    metadata = client.get("/saml/metadata").data.decode()
    metadata_schema().validate(metadata)
    assert "X509Certificate" not in metadata
    state = {"name_id": "ada-persistent-7f3c", "session_index": "x"}
    with app.test_request_context():
        assert (
            app.extensions["conexoos"].logins.logout_url("saml", "saml", state, "http://localhost/") is None
        )


def test_the_login_button_and_the_cross_site_post_blueprint_are_registered(app: Flask) -> None:
    logins: Logins = app.extensions["conexoos"].logins
    [button] = logins.buttons()
    assert (button.backend, button.provider, button.label, button.url) == (
        "saml",
        "saml",
        "Company SSO",
        "/saml/login",
    )
    assert [blueprint.name for blueprint in logins.cross_site_posts] == ["conexoos_saml"]
    shown = app.extensions["conexoos"].settings.redacted()["LOGINS"]["saml"]
    assert shown["SP_KEY"] == "***" and shown["SP_CERT"].endswith("sp.crt")


def test_single_logout_goes_to_the_idp_and_comes_back(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    post_acs(client, idp_answer(client, idp))
    state = client.get("/me").get_json()["logout_state"]
    answer = client.post("/logout")
    assert answer.status_code == 303
    slo = answer.headers["Location"]
    assert slo.startswith(f"{idp.url}/slo/redirect?SAMLRequest=")
    query = parse_qs(urlsplit(slo).query)
    assert query["RelayState"] == ["/"] and query["Signature"]
    request_xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    assert state["name_id"] in request_xml and state["session_index"] in request_xml
    back = requests.get(slo, allow_redirects=False, timeout=10)  # the IdP checks the signature
    assert back.status_code == 303, back.text
    sls = back.headers["Location"]
    assert sls.startswith("http://localhost/saml/sls?SAMLResponse=")
    done = client.get(sls.removeprefix("http://localhost"))
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert logged_in_user(client) is None


def test_an_idp_initiated_logout_ends_the_session(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    post_acs(client, idp_answer(client, idp))
    state = client.get("/me").get_json()["logout_state"]
    start = requests.get(
        f"{idp.url}/initiate-logout",
        params={"sp": "http://localhost/saml/metadata", "name_id": state["name_id"]},
        allow_redirects=False,
        timeout=10,
    )
    sls = start.headers["Location"]
    assert sls.startswith("http://localhost/saml/sls?SAMLRequest=")
    answer = client.get(sls.removeprefix("http://localhost"))
    assert answer.status_code == 303 and answer.headers["Location"].startswith(
        f"{idp.url}/slo/redirect?SAMLResponse="
    )
    assert logged_in_user(client) is None
    confirmed = requests.get(answer.headers["Location"], timeout=10)
    assert confirmed.status_code == 200 and "Logged out" in confirmed.text


def test_an_unsigned_idp_initiated_logout_is_refused(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    post_acs(client, idp_answer(client, idp))
    state = client.get("/me").get_json()["logout_state"]
    start = requests.get(
        f"{idp.url}/initiate-logout",
        params={"sp": "http://localhost/saml/metadata", "name_id": state["name_id"], "unsigned": "1"},
        allow_redirects=False,
        timeout=10,
    )
    assert_refused(client.get(start.headers["Location"].removeprefix("http://localhost")), 400, "logout")
    assert logged_in_user(client)["username"] == "ada"


def test_garbage_at_the_sls_is_a_400_page(app: Flask) -> None:
    client = app.test_client()
    assert_refused(client.get("/saml/sls"), 400)
    assert_refused(client.get("/saml/sls?SAMLResponse=garbage"), 400)
    assert_refused(client.post("/saml/sls", data={"SAMLRequest": "PHg+"}), 400)


def test_identity_mapping_rules() -> None:
    from saml2 import saml

    from conexoos.framework.logins.base import LoginFailed
    from conexoos.framework.logins.saml_identity import AttributeNames, build_identity, split_values

    names = AttributeNames("uid", "MAIL", "displayName", "", (), email_verified=True)
    persistent = saml.NameID(format=saml.NAMEID_FORMAT_PERSISTENT, text=" p-1 ")
    identity = build_identity(persistent, {"uid": ["", "ada"], "mail": ["a@example.org"]}, names, None)
    assert (identity.subject, identity.username, identity.email, identity.name) == (
        "p-1",
        "ada",
        "a@example.org",
        None,
    )
    assert identity.admin is None and identity.email_verified is True  # no admin mapping: keep the role
    assert build_identity(persistent, {}, names, None).email_verified is False  # no address, nothing vouched
    assert split_values(" a, ,b ") == ("a", "b") and split_values(["x", " y "]) == ("x", "y")
    for refused in (saml.NameID(format=saml.NAMEID_FORMAT_TRANSIENT, text="t-1"), saml.NameID(text=" ")):
        with pytest.raises(LoginFailed):
            build_identity(refused, {}, names, None)


def test_config_check_connect_reads_the_idp_metadata(
    saml_app: Callable[..., Flask], idp: SamlIdp, tmp_path: Path
) -> None:
    from conexoos.framework.connect_checks import run_connect_checks

    def saml_result(app: Flask) -> Any:
        settings = app.extensions["conexoos"].settings
        return next(result for result in run_connect_checks(settings) if result.name == "LOGINS.saml")

    assert saml_result(saml_app(idp.metadata_url)).line() == "LOGINS.saml: ok"
    copy = tmp_path / "idp-copy.xml"
    copy.write_bytes(idp.metadata_file.read_bytes())
    from_file = saml_app(str(copy))
    assert saml_result(from_file).problem is None
    copy.write_text("<html>a login page</html>")
    assert "holds no identity provider" in saml_result(from_file).line()
    down = saml_result(saml_app(f"http://127.0.0.1:{free_port()}/metadata"))
    assert down.line().startswith("LOGINS.saml: FAILED: http://127.0.0.1:") and "refused" in down.line()


# -- message size and compression limits ---------------------------------------------------------------------


def deflated(xml: bytes) -> str:
    """``xml`` deflated and base64-encoded (the redirect binding's form)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(xml) + compressor.flush()).decode()


def test_a_too_long_saml_response_is_a_413_page_before_it_is_decoded(app: Flask) -> None:
    client = app.test_client()
    start_login(client)
    huge = "A" * (300 * 1024)
    answer = client.post("/saml/acs", data={"SAMLResponse": huge, "conexoos_saml_resent": "1"})
    assert_refused(answer, 413, "too large")
    assert_refused(app.test_client().post("/saml/acs", data={"SAMLResponse": huge}), 413, "too large")
    assert_refused(client.post("/saml/sls", data={"SAMLRequest": huge}), 413, "too large")
    assert_refused(client.get("/saml/sls", query_string={"SAMLResponse": huge}), 413, "too large")


def test_a_deflated_response_on_the_post_binding_is_refused(
    app: Flask, idp: SamlIdp, caplog: pytest.LogCaptureFixture
) -> None:
    """pysaml2 would inflate it (and so a small POST could inflate to gigabytes): the POST binding is XML."""
    client = app.test_client()
    fields = idp_answer(client, idp)
    fields["SAMLResponse"] = deflated(base64.b64decode(fields["SAMLResponse"]))
    with caplog.at_level(logging.WARNING, logger="conexoos.logins.saml"):
        assert_refused(post_acs(client, fields), 400, "could not be accepted")
    assert "deflated" in caplog.text
    assert logged_in_user(client) is None


def test_a_deflate_bomb_on_the_redirect_binding_is_inflated_to_the_limit_only() -> None:
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.entity import UnravelError

    from conexoos.framework.logins.saml_messages import MAX_XML, unravel

    assert unravel(deflated(b"<x/>"), BINDING_HTTP_REDIRECT) == b"<x/>"
    bomb = deflated(b"<x>" + b" " * (4 * MAX_XML) + b"</x>")
    with pytest.raises(UnravelError, match="inflates past"):
        unravel(bomb, BINDING_HTTP_REDIRECT)
    whole = base64.b64decode(deflated(b"<x>" + bytes(range(256)) * 8 + b"</x>"))
    with pytest.raises(UnravelError, match="incomplete"):
        unravel(base64.b64encode(whole[:60]).decode(), BINDING_HTTP_REDIRECT)


def test_a_deflate_bomb_at_the_sls_is_a_400_page(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    from conexoos.framework.logins.saml_messages import MAX_XML

    bomb = deflated(b"<x>" + b" " * (4 * MAX_XML) + b"</x>")
    with caplog.at_level(logging.WARNING, logger="conexoos.logins.saml"):
        assert_refused(app.test_client().get("/saml/sls", query_string={"SAMLResponse": bomb}), 400)
    assert "inflates past" in caplog.text


def test_the_sp_metadata_advertises_only_sha256_and_stronger(saml_app: Callable[..., Flask]) -> None:
    from conexoos.framework.logins.saml_algorithms import ACCEPTED_ALGORITHMS

    for signed in (False, True):
        document = saml_app(SIGN_METADATA=signed).test_client().get("/saml/metadata").text
        advertised = re.findall(r'(?:DigestMethod|SigningMethod) Algorithm="([^"]+)"', document)
        assert advertised and set(advertised) <= ACCEPTED_ALGORITHMS, advertised
        for weak in ("md5", "sha1", "ripemd160"):
            assert f'#{weak}"' not in document and f'-{weak}"' not in document


def test_a_logout_signed_with_sha1_on_the_redirect_binding_is_refused(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    from saml2.xmldsig import SIG_RSA_SHA1

    query = {"SAMLRequest": deflated(b"<x/>"), "SigAlg": SIG_RSA_SHA1, "Signature": "c2ln"}
    with caplog.at_level(logging.WARNING, logger="conexoos.logins.saml"):
        assert_refused(app.test_client().get("/saml/sls", query_string=query), 400, "logout")
    assert "is weak" in caplog.text
