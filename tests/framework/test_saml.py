"""``LOGINS.saml`` against a real SAML identity provider (pysaml2's IdP in its own process).

The service provider is the small project of :mod:`tests.support.saml_app`, driven by Flask's test client
at http://localhost; the IdP is driven with requests, as a browser would: GET the AuthnRequest URL, post
the login form, and post the form it answers with back to /saml/acs.
"""

from __future__ import annotations

import base64
import logging
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

SCHEMAS = Path(xmlschema.__file__).parent  # replaced below by pysaml2's copies of the OASIS schemas
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
    """Build the project with ``APP.SAML`` pointing at the test IdP (its metadata URL unless told)."""

    def build(metadata: str | None = None, **extra: Any) -> Flask:
        section = saml_section(metadata or idp.metadata_url, *sp_keys, **extra)
        return make_app(project, overrides={"APP": {"SAML": section}})

    return build


@pytest.fixture(scope="module")
def registered(idp: SamlIdp, project: Path, sp_keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    """The IdP trusts the SP at http://localhost (registered once with the SP's own metadata)."""
    from conexoos.framework import create_app
    from tests.conftest import base_overrides

    folder = tmp_path_factory.mktemp("register")
    overrides = base_overrides(folder)
    overrides["APP"] = {"SAML": saml_section(idp.metadata_url, *sp_keys)}
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


def idp_answer(client: FlaskClient, idp: SamlIdp, username: str = "ada", mode: str = "normal") -> dict[str, str]:
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


def test_a_person_outside_the_admin_values_is_not_admin(app: Flask, idp: SamlIdp) -> None:
    client = app.test_client()
    post_acs(client, idp_answer(client, idp, username="bob"))
    assert client.get("/me").get_json()["user"]["admin"] is False
