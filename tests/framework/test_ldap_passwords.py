"""LDAP logins with passwords SASLprep would refuse, and the checks of a person binding as themselves
(``BIND_DN`` holding ``{login}``), against a real slapd seeded with the people these cases need."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conexoos.framework.config import load_settings
from conexoos.framework.logins.ldap import LdapBackend, LdapSettings
from tests.support.ldap_server import PEOPLE, LdapServer, _ssha, running_ldap_server

ODD_PASSWORDS = {
    "tabby": "tab\there",
    "deleter": "del\x7fete",
    "bell": "ring\x07ring",
    "private": "pua\ue000pw",
    "mixed": "abc\u05d0",
}
IMPOSTOR_PASSWORD = "impostor-pw"


class SeededServer(LdapServer):
    """The test slapd with people whose passwords SASLprep refuses, and an impostor whose uid is another
    person's mail address."""

    def _seed_ldif(self) -> str:
        entries = [super()._seed_ldif().rstrip("\n")]
        for uid, password in ODD_PASSWORDS.items():
            entries.append(_person(uid, f"{uid}@example.org", password))
        entries.append(_person("alice@example.org", "impostor@example.org", IMPOSTOR_PASSWORD))
        return "\n\n".join(entries) + "\n"


def _person(uid: str, mail: str, password: str) -> str:
    return (
        f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid} Example\nsn: Example\n"
        f"mail: {mail}\nuserPassword: {_ssha(password)}"
    )


@pytest.fixture(scope="module")
def directory(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[LdapServer]:
    import tests.support.ldap_server as ldap_server

    monkeypatch_module.setattr(ldap_server, "LdapServer", SeededServer)
    with running_ldap_server() as server:
        yield server


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def backend(directory: LdapServer, tmp_path: Path, **changes: Any) -> LdapBackend:
    config = tmp_path / "config.json"
    tree = {
        "SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance")},
        "LOGINS": {"ldap": directory.section(**changes)},
    }
    config.write_text(json.dumps(tree), encoding="utf-8")
    settings = load_settings(config, environ={}, report_warnings=False)
    return LdapBackend(LdapSettings.from_section(settings.tree["LOGINS"]["ldap"]))


@pytest.mark.parametrize("uid", sorted(ODD_PASSWORDS))
@pytest.mark.parametrize("binds_as_person", [False, True])
def test_a_password_saslprep_refuses_logs_in_and_a_wrong_one_is_just_wrong(
    directory: LdapServer, tmp_path: Path, uid: str, binds_as_person: bool, caplog: pytest.LogCaptureFixture
) -> None:
    changes: dict[str, Any] = {"BIND_DN": f"uid={{login}},{PEOPLE}"} if binds_as_person else {}
    ldap = backend(directory, tmp_path, **changes)
    with caplog.at_level(logging.WARNING, logger="conexoos.logins"):
        identity = ldap.authenticate(uid, ODD_PASSWORDS[uid])
        wrong = ldap.authenticate(uid, ODD_PASSWORDS[uid] + "\t")
    assert identity is not None and identity.username == uid
    assert wrong is None
    assert "ERROR" not in caplog.text


def test_a_person_binding_as_themselves_must_be_the_entry_user_filter_finds(
    directory: LdapServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The impostor's uid is alice's mail: binding as uid=alice@example.org with the impostor's password
    and searching (mail=alice@example.org) finds alice; WhoAmI says the impostor is bound."""
    by_mail = backend(directory, tmp_path, BIND_DN=f"uid={{login}},{PEOPLE}", USER_FILTER="(mail={login})")
    with caplog.at_level(logging.WARNING, logger="conexoos.logins"):
        assert by_mail.authenticate("alice@example.org", IMPOSTOR_PASSWORD) is None
    assert "bound as 'dn:uid=alice@example.org" in caplog.text and "refused" in caplog.text
    by_uid = backend(directory, tmp_path, BIND_DN=f"uid={{login}},{PEOPLE}", USER_FILTER="(uid={login})")
    alice = by_uid.authenticate("alice", "alice-pw")
    assert alice is not None and alice.username == "alice"
    impostor = by_uid.authenticate("alice@example.org", IMPOSTOR_PASSWORD)
    assert impostor is not None and impostor.email == "impostor@example.org"


def test_dns_are_compared_in_any_case_and_spacing() -> None:
    from conexoos.framework.logins.ldap import _same_dn

    assert _same_dn("UID=Alice, OU=People,dc=example,dc=org", "uid=alice,ou=people,dc=example,dc=org")
    assert not _same_dn(
        "uid=alice@example.org,ou=people,dc=example,dc=org", "uid=alice,ou=people,dc=example,dc=org"
    )
    assert not _same_dn("not a dn", "uid=alice,ou=people,dc=example,dc=org")


def test_an_unknown_login_costs_the_same_binds_as_a_wrong_password(
    directory: LdapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing must not tell which logins exist: an unknown login also opens a second connection and binds."""
    ldap = backend(directory, tmp_path)
    binds: list[str] = []
    real_connect = ldap._connect

    def counting_connect() -> Any:
        connection = real_connect()
        real_rebind = connection.rebind

        def rebind(user: str, password: bytes) -> Any:
            binds.append(user)
            return real_rebind(user=user, password=password)

        connection.rebind = rebind
        return connection

    monkeypatch.setattr(ldap, "_connect", counting_connect)
    assert ldap.authenticate("tabby", "wrong") is None
    wrong_password = list(binds)
    binds.clear()
    assert ldap.authenticate("nobody-here", "wrong") is None
    assert len(binds) == len(wrong_password) == 2


class FakeAdConnection:
    """What Active Directory answers: WhoAmI as ``u:DOMAIN\\sAMAccountName``, and the entry's account."""

    def __init__(self, bound: str, account: str) -> None:
        self.result: dict[str, Any] = {"result": 0}
        self.response: list[dict[str, Any]] = []
        self._bound, self._account = bound, account
        self.extend = type("Extend", (), {"standard": self})()

    def who_am_i(self) -> str:
        return self._bound

    def search(self, *args: Any, **kwargs: Any) -> None:
        self.response = [
            {"type": "searchResEntry", "dn": "CN=Ada,OU=Staff", "raw_attributes": {}, "attributes": {}}
        ]
        self.response[0]["attributes"]["sAMAccountName"] = self._account
        self.response[0]["raw_attributes"]["sAMAccountName"] = [self._account.encode()]


@pytest.mark.parametrize(
    ("bound", "account", "same"),
    [("u:CORP\\ada", "Ada", True), ("u:CORP\\mallory", "ada", False), ("", "ada", False)],
)
def test_active_directorys_whoami_is_compared_with_the_entrys_account(
    directory: LdapServer, tmp_path: Path, bound: str, account: str, same: bool
) -> None:
    ldap = backend(directory, tmp_path, BIND_DN="{login}@corp.example.com")
    assert ldap._bound_as(FakeAdConnection(bound, account), "CN=Ada,OU=Staff", "ada@corp") is same  # type: ignore[arg-type]
