"""The LDAP backend against a real OpenLDAP (Debian's slapd, started by the module): bind and search, groups
→ admin, wrong and empty passwords, LDAP injection, StartTLS and ldaps checked against CA_FILE, a directory
that is down or frozen, ``config check --connect``, and a project's login form trying the backends."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conexoos.framework.app import create_app
from conexoos.framework.config import Settings, load_settings
from conexoos.framework.connect_checks import run_connect_checks
from conexoos.framework.logins import LoginUnavailable
from conexoos.framework.logins.ldap import UNAVAILABLE, LdapBackend, LdapSettings
from tests.support.ldap_server import PASSWORDS, PEOPLE, LdapServer, running_ldap_server

from .helpers import free_port, write_project
from .test_cli import command_env, conexoos

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def directory() -> Iterator[LdapServer]:
    """One slapd for the module; a test that stops or freezes it starts or resumes it before it ends."""
    with running_ldap_server() as server:
        yield server


def settings_for(section: dict[str, Any], tmp_path: Path) -> Settings:
    """The validated configuration with ``LOGINS.ldap: section``, as the app would read it."""
    config = tmp_path / "config.json"
    tree = {"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance")}, "LOGINS": {"ldap": section}}
    config.write_text(json.dumps(tree), encoding="utf-8")
    return load_settings(config, environ={}, report_warnings=False)


def backend(directory: LdapServer, tmp_path: Path, **changes: object) -> LdapBackend:
    """The backend for the test directory, with ``changes`` to its section."""
    settings = settings_for(directory.section(**changes), tmp_path)
    return LdapBackend(LdapSettings.from_section(settings.tree["LOGINS"]["ldap"]))


# ---------------------------------------------------------------- bind, search, groups


def test_a_person_logs_in_with_their_directory_password(directory: LdapServer, tmp_path: Path) -> None:
    identity = backend(directory, tmp_path).authenticate("alice", "alice-pw")
    assert identity is not None
    assert (identity.backend, identity.provider) == ("ldap", "ldap")
    assert UUID.fullmatch(identity.subject), identity.subject  # entryUUID, stable across renames
    assert identity.username == "alice"
    assert identity.email == "alice@example.org"
    assert identity.email_verified is False
    assert identity.name == "Alice Example"


def test_the_subject_is_stable_and_differs_between_people(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(directory, tmp_path)
    first, again, other = (
        ldap.authenticate("alice", "alice-pw"),
        ldap.authenticate("alice", "alice-pw"),
        ldap.authenticate("bob", "bob-pw"),
    )
    assert first is not None and again is not None and other is not None
    assert first.subject == again.subject != other.subject


def test_admin_groups_make_admins_and_others_not(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(directory, tmp_path)
    alice, bob, carol = (ldap.authenticate(uid, password) for uid, password in PASSWORDS.items())
    assert alice is not None and alice.admin is True  # in admins
    assert bob is not None and bob.admin is False  # in staff only
    assert carol is not None and carol.admin is False  # in no group
    staff = backend(directory, tmp_path, ADMIN_GROUPS=["STAFF"]).authenticate("bob", "bob-pw")
    assert staff is not None and staff.admin is True  # a cn is compared in any case, as LDAP does


def test_without_admin_groups_the_role_is_left_alone(directory: LdapServer, tmp_path: Path) -> None:
    identity = backend(directory, tmp_path, ADMIN_GROUPS=[]).authenticate("alice", "alice-pw")
    assert identity is not None and identity.admin is None


def test_email_verified_is_what_the_operator_configured(directory: LdapServer, tmp_path: Path) -> None:
    identity = backend(directory, tmp_path, EMAIL_VERIFIED=True).authenticate("bob", "bob-pw")
    assert identity is not None and identity.email_verified is True


def test_other_attribute_names_are_read(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(
        directory, tmp_path, USER_FILTER="(mail={login})", USERNAME_ATTRIBUTE="mail", NAME_ATTRIBUTE="sn"
    )
    identity = ldap.authenticate("carol@example.org", "carol-pw")
    assert identity is not None
    assert (identity.username, identity.name) == ("carol@example.org", "Example")


# ---------------------------------------------------------------- refusals


def test_a_wrong_password_or_an_unknown_login_is_none(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(directory, tmp_path)
    assert ldap.authenticate("alice", "bob-pw") is None
    assert ldap.authenticate("alice", "alice-pw ") is None
    assert ldap.authenticate("nobody", "alice-pw") is None
    assert ldap.authenticate("", "alice-pw") is None
    assert ldap.authenticate("alice", "alice-pw\ud800") is None  # not UTF-8: nobody's password
    assert ldap.authenticate("\ud800", "alice-pw") is None


def test_an_empty_password_is_refused_before_the_directory_is_asked(
    directory: LdapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # To a directory a simple bind with a DN and no password is an anonymous bind, and it succeeds.
    ldap = backend(directory, tmp_path)
    contacted: list[str] = []
    original = LdapBackend._connect
    monkeypatch.setattr(LdapBackend, "_connect", lambda self: contacted.append("connect") or original(self))
    assert ldap.authenticate("alice", "") is None
    assert contacted == []
    assert ldap.authenticate("alice", "alice-pw") is not None and contacted  # the spy does see a login


@pytest.mark.parametrize(
    "login",
    [
        "*",
        "al*",
        "a*e",
        ")(uid=*",
        "alice)(uid=*",
        "*)(|(uid=*",
        "alice)(|(objectClass=*",
        "alice\x00",
        "\x00*",
    ],
)
def test_the_login_cannot_inject_filter_syntax(directory: LdapServer, tmp_path: Path, login: str) -> None:
    # Unescaped, "al*" and "a*e" would find alice, and her password would log the attacker in as her.
    ldap = backend(directory, tmp_path)
    assert ldap.authenticate(login, "alice-pw") is None


def test_a_filter_matching_several_entries_logs_nobody_in(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(directory, tmp_path, USER_FILTER="(|(uid={login})(objectClass=inetOrgPerson))")
    assert ldap.authenticate("alice", "alice-pw") is None


# ---------------------------------------------------------------- binding as the person (no service account)


def test_bind_dn_with_login_binds_as_the_person(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(directory, tmp_path, BIND_DN=f"uid={{login}},{PEOPLE}", BIND_PASSWORD="")
    identity = ldap.authenticate("alice", "alice-pw")
    assert identity is not None and identity.username == "alice" and identity.admin is True
    assert ldap.authenticate("alice", "wrong") is None
    assert ldap.authenticate("alice", "") is None
    # A login cannot change the DN it binds as: its commas and equals signs are escaped.
    assert ldap.authenticate(f"alice,{PEOPLE}", "alice-pw") is None
    assert ldap.authenticate("bob,ou=people", "bob-pw") is None
    for login in ("\x00", "a\\", "#x", "=", "uid=alice", "\ud800"):  # none of them is a DN value
        assert ldap.authenticate(login, "alice-pw") is None


# ---------------------------------------------------------------- TLS


def test_start_tls_checks_the_certificate_against_ca_file(directory: LdapServer, tmp_path: Path) -> None:
    trusted = backend(directory, tmp_path, START_TLS=True, CA_FILE=str(directory.ca_file))
    assert trusted.authenticate("alice", "alice-pw") is not None
    for ca_file in (str(directory.other_ca_file), ""):  # another CA, the system's CAs
        untrusted = backend(directory, tmp_path, START_TLS=True, CA_FILE=ca_file)
        with pytest.raises(LoginUnavailable) as caught:
            untrusted.authenticate("alice", "alice-pw")
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value.__cause__)


def test_ldaps_checks_the_certificate_against_ca_file(directory: LdapServer, tmp_path: Path) -> None:
    trusted = backend(directory, tmp_path, URL=directory.tls_url, CA_FILE=str(directory.ca_file))
    identity = trusted.authenticate("bob", "bob-pw")
    assert identity is not None and identity.username == "bob"
    assert trusted.authenticate("bob", "alice-pw") is None
    for ca_file in (str(directory.other_ca_file), ""):
        untrusted = backend(directory, tmp_path, URL=directory.tls_url, CA_FILE=ca_file)
        with pytest.raises(LoginUnavailable) as caught:
            untrusted.authenticate("bob", "bob-pw")
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value.__cause__)


def test_the_certificate_must_name_the_host(directory: LdapServer, tmp_path: Path) -> None:
    # The certificate names localhost and 127.0.0.1; reached by another name of this host, it is refused.
    url = directory.tls_url.replace("127.0.0.1", "127.0.0.2")  # slapd listens there too
    with pytest.raises(LoginUnavailable) as caught:
        backend(directory, tmp_path, URL=url, CA_FILE=str(directory.ca_file)).authenticate("bob", "bob-pw")
    assert "doesn't match any name in ['127.0.0.2']" in str(caught.value.__cause__)


# ---------------------------------------------------------------- a directory that cannot answer


def test_a_wrong_service_password_is_unavailable_with_the_cause_logged(
    directory: LdapServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ldap = backend(directory, tmp_path, BIND_PASSWORD="not-the-password")
    with (
        caplog.at_level(logging.ERROR, logger="conexoos.logins.ldap"),
        pytest.raises(LoginUnavailable) as caught,
    ):
        ldap.authenticate("alice", "alice-pw")
    assert caught.value.status == 503
    assert caught.value.message == UNAVAILABLE
    assert "refused the bind of BIND_DN 'cn=reader,dc=example,dc=org'" in caplog.text
    assert "not-the-password" not in caplog.text + str(caught.value.__cause__)


def test_a_missing_user_base_is_unavailable(directory: LdapServer, tmp_path: Path) -> None:
    with pytest.raises(LoginUnavailable) as caught:
        backend(directory, tmp_path, USER_BASE="ou=nobody,dc=example,dc=org").authenticate(
            "alice", "alice-pw"
        )
    assert "USER_BASE 'ou=nobody,dc=example,dc=org' does not exist" in str(caught.value.__cause__)


def test_a_directory_that_is_down_is_unavailable_at_once(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(directory, tmp_path)
    directory.stop()
    try:
        started = time.monotonic()
        with pytest.raises(LoginUnavailable):
            ldap.authenticate("alice", "alice-pw")
        assert time.monotonic() - started < 2
    finally:
        directory.start()
    assert ldap.authenticate("alice", "alice-pw") is not None  # and it recovers with the directory


def test_a_frozen_directory_is_unavailable_within_the_timeout(directory: LdapServer, tmp_path: Path) -> None:
    ldap = backend(directory, tmp_path, TIMEOUT=1)
    directory.pause()
    try:
        started = time.monotonic()
        with pytest.raises(LoginUnavailable):
            ldap.authenticate("alice", "alice-pw")
        elapsed = time.monotonic() - started
    finally:
        directory.resume()
    assert 0.9 < elapsed < 6, elapsed  # TIMEOUT bounds it; room left for a loaded machine
    assert ldap.authenticate("alice", "alice-pw") is not None


def test_an_address_where_nothing_listens_is_unavailable(directory: LdapServer, tmp_path: Path) -> None:
    with pytest.raises(LoginUnavailable):
        backend(directory, tmp_path, URL=f"ldap://127.0.0.1:{free_port()}").authenticate("alice", "alice-pw")


# ---------------------------------------------------------------- config check --connect


def check_line(settings: Settings) -> str:
    """The ``LOGINS.ldap`` line of ``config check --connect``."""
    return next(result.line() for result in run_connect_checks(settings) if result.name == "LOGINS.ldap")


def test_connect_check_tries_the_directory(directory: LdapServer, tmp_path: Path) -> None:
    assert check_line(settings_for(directory.section(), tmp_path)) == "LOGINS.ldap: ok"
    wrong = check_line(settings_for(directory.section(BIND_PASSWORD="nope"), tmp_path))
    assert wrong.startswith("LOGINS.ldap: FAILED: ") and "refused the bind of BIND_DN" in wrong
    missing = check_line(settings_for(directory.section(ADMIN_GROUPS=["admins", "auditors"]), tmp_path))
    assert missing.endswith("FAILED: ADMIN_GROUPS auditors not found under 'ou=groups,dc=example,dc=org'")
    base = check_line(settings_for(directory.section(USER_BASE="ou=gone,dc=example,dc=org"), tmp_path))
    assert "USER_BASE 'ou=gone,dc=example,dc=org' cannot be read" in base
    untrusted = directory.section(URL=directory.tls_url, CA_FILE=str(directory.other_ca_file))
    assert "FAILED" in check_line(settings_for(untrusted, tmp_path))


def test_config_check_connect_names_the_directory(directory: LdapServer, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    tree = {"SERVER_ENV": {"INSTANCE_PATH": "instance"}, "LOGINS": {"local": {}, "ldap": directory.section()}}
    config.write_text(json.dumps(tree), encoding="utf-8")
    result = conexoos(
        "config", "check", "--connect", "--config", str(config), cwd=tmp_path, env=command_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LOGINS.ldap: ok" in result.stdout
    tree["LOGINS"]["ldap"] = directory.section(BIND_PASSWORD="bad-secret-7")  # type: ignore[index]
    config.write_text(json.dumps(tree), encoding="utf-8")
    result = conexoos(
        "config", "check", "--connect", "--config", str(config), cwd=tmp_path, env=command_env()
    )
    assert result.returncode == 1
    assert "LOGINS.ldap: FAILED" in result.stdout
    assert "bad-secret-7" not in result.stdout + result.stderr


# ---------------------------------------------------------------- a project's login form


LOGIN_PROJECT = {
    "server/web.py": '''
        from flask import jsonify, request

        from conexoos.framework import runtime
        from conexoos.framework.logins import LoginUnavailable
        from conexoos.framework.logins.pages import render_login_failure


        class Route:
            def __init__(self, app):
                app.add_url_rule("/login", "login", login, methods=["POST"])


        def login():
            """Try each password backend in LOGINS order; the first that knows the person wins."""
            logins = runtime().logins
            for backend in logins.password_backends():
                try:
                    identity = backend.authenticate(request.form["login"], request.form["password"])
                except LoginUnavailable as error:
                    return render_login_failure(error)
                if identity is not None:
                    return jsonify(backend=backend.name, username=identity.username, admin=identity.admin)
            return jsonify(error="wrong login or password", order=logins.order), 401
    ''',
}


@pytest.fixture
def login_app(directory: LdapServer, tmp_path: Path) -> Flask:
    """The fixture project with ``LOGINS: {local, ldap}``."""
    project = write_project(tmp_path / "project", LOGIN_PROJECT)
    config = tmp_path / "config.json"
    tree = {
        "SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance")},
        "DATABASE": {},
        "LOGINS": {"local": {}, "ldap": directory.section()},
    }
    config.write_text(json.dumps(tree), encoding="utf-8")
    return create_app(project, config)


def test_the_login_form_tries_the_directory(login_app: Flask, directory: LdapServer) -> None:
    client = login_app.test_client()
    answer = client.post("/login", data={"login": "alice", "password": "alice-pw"})
    assert answer.status_code == 200
    assert answer.get_json() == {"backend": "ldap", "username": "alice", "admin": True}
    refused = client.post("/login", data={"login": "alice", "password": "nope"})
    assert refused.status_code == 401
    assert refused.get_json()["order"] == ["local", "ldap"]


def test_the_login_form_shows_a_page_when_the_directory_is_down(
    login_app: Flask, directory: LdapServer
) -> None:
    directory.stop()
    try:
        answer = login_app.test_client().post("/login", data={"login": "alice", "password": "alice-pw"})
    finally:
        directory.start()
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "Logging in is unavailable right now" in page and "cannot be reached right now" in page
