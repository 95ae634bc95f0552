"""LDAP and Active Directory accounts, checked with ldap3 on the project's own login form.

A login goes: a search bind (``BIND_DN``, or anonymous, or the person themselves when ``BIND_DN`` holds
``{login}``), a search under ``USER_BASE`` with ``USER_FILTER`` (the login escaped, RFC 4515, so a ``*``
or ``)(`` in it is a character, never filter syntax) that must find exactly one entry, then a bind as that
entry's DN with the typed password. An empty password is refused before anything is sent: to a directory
a simple bind without a password is an anonymous bind, and it succeeds. ``ADMIN_GROUPS`` turns the
groups found with ``GROUP_FILTER`` into the admin role.

Active Directory works the same way: ``USER_FILTER: (sAMAccountName={login})`` (or
``(userPrincipalName={login})``), ``USERNAME_ATTRIBUTE: sAMAccountName``, ``NAME_ATTRIBUTE: displayName``;
the person's stable id is then ``objectGUID`` (OpenLDAP's is ``entryUUID``; otherwise the DN).
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException, LDAPInvalidFilterError
from ldap3.operation.search import parse_filter
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from ..schema import Key, Schema
from .base import ExternalIdentity, LoginUnavailable
from .registry import Logins

log = logging.getLogger("conexoos.logins.ldap")

UNAVAILABLE = "The directory that checks these accounts cannot be reached right now."
SUCCESS = 0
SIZE_LIMIT_EXCEEDED = 4
NO_SUCH_OBJECT = 32
REFUSED_PASSWORD = {48, 49}
"""inappropriateAuthentication, invalidCredentials (AD also answers 49 for locked or expired accounts)."""
INVALID_DN_SYNTAX = 34
SUBJECT_ATTRIBUTES = ("entryUUID", "objectGUID")


def _ldap_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("ldap", "ldaps") or not parts.hostname:
        raise ValueError(value)
    if parts.path not in ("", "/") or parts.query or parts.username is not None or parts.password is not None:
        raise ValueError(value)
    parts.port  # noqa: B018 - raises ValueError on a port that is not a number from 0 to 65535
    return value.strip()


def _filter_holding(placeholder: str) -> Any:
    def check(value: str) -> str:
        if placeholder not in value:
            raise ValueError(value)
        try:
            parse_filter(value.replace(placeholder, "x"), None, False, True, None, False)
        except LDAPInvalidFilterError as error:
            raise ValueError(value) from error
        return value

    return check


SCHEMA: Schema = {
    "URL": Key(
        "str",
        "",
        "The directory: ldaps://host[:port] (TLS from the start, port 636) or ldap://host[:port] (port 389; "
        "with START_TLS, or on a trusted network only).",
        required=True,
        convert=_ldap_url,
        expected="an ldap:// or ldaps:// URL with a host, e.g. ldaps://ldap.example.org",
    ),
    "START_TLS": Key("bool", False, "Upgrade an ldap:// connection to TLS before anything is sent."),
    "BIND_DN": Key(
        "str",
        "",
        "Account that searches for the person, e.g. cn=conexoos,ou=services,dc=example,dc=org; empty: an "
        "anonymous search; holding {login} (e.g. {login}@example.org for AD): the person binds to search.",
    ),
    "BIND_PASSWORD": Key("str", "", "Password of BIND_DN.", secret=True),
    "USER_BASE": Key(
        "str", "", "Where people are searched, e.g. ou=people,dc=example,dc=org.", required=True
    ),
    "USER_FILTER": Key(
        "str",
        "(uid={login})",
        "Finds the one entry of a login; {login} is replaced by the typed login, escaped. AD: "
        "(sAMAccountName={login}) or (userPrincipalName={login}).",
        convert=_filter_holding("{login}"),
        expected="a valid LDAP filter holding {login}, e.g. (uid={login}) or (sAMAccountName={login})",
    ),
    "USERNAME_ATTRIBUTE": Key("str", "uid", "Attribute suggesting the username (AD: sAMAccountName)."),
    "EMAIL_ATTRIBUTE": Key("str", "mail", "Attribute holding the email address."),
    "NAME_ATTRIBUTE": Key("str", "cn", "Attribute holding the display name (AD: displayName)."),
    "EMAIL_VERIFIED": Key(
        "bool",
        False,
        "Whether the directory's email addresses count as verified (the operator vouches for them).",
    ),
    "GROUP_BASE": Key("str", "", "Where groups are searched; empty: USER_BASE."),
    "GROUP_FILTER": Key(
        "str",
        "(member={dn})",
        "Finds the groups of a person; {dn} is replaced by their DN, escaped. OpenLDAP posixGroup: "
        "(memberUid=...) is not supported; AD nested groups: (member:1.2.840.113556.1.4.1941:={dn}).",
        convert=_filter_holding("{dn}"),
        expected="a valid LDAP filter holding {dn}, e.g. (member={dn}) or (uniqueMember={dn})",
    ),
    "ADMIN_GROUPS": Key(
        "list",
        [],
        "cn of the groups whose members are admins (set and removed at each login); empty: the admin "
        "role is left as it is.",
    ),
    "CA_FILE": Key(
        "str",
        "",
        "PEM file of the CA that signed the directory's certificate, relative to the configuration file's "
        "folder; empty: the system's CAs.",
    ),
    "TIMEOUT": Key(
        "int", 5, "Seconds to wait for the directory (connecting, and each answer).", minimum=1, maximum=120
    ),
}


@dataclass(frozen=True)
class LdapSettings:
    """The validated ``LOGINS.ldap`` section."""

    url: str
    start_tls: bool
    bind_dn: str
    bind_password: str
    user_base: str
    user_filter: str
    username_attribute: str
    email_attribute: str
    name_attribute: str
    email_verified: bool
    group_base: str
    group_filter: str
    admin_groups: tuple[str, ...]
    ca_file: str
    timeout: int

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> LdapSettings:
        """Read the section as :func:`conexoos.framework.config.load_settings` validated it."""
        return cls(
            **{name.lower(): section[name] for name in SCHEMA if name != "ADMIN_GROUPS"},
            admin_groups=tuple(section["ADMIN_GROUPS"]),
        )

    @property
    def binds_as_person(self) -> bool:
        """Whether the search runs bound as the person (``BIND_DN`` holds ``{login}``)."""
        return "{login}" in self.bind_dn


def section_problems(section: dict[str, Any], base_dir: Path, path: str) -> tuple[list[str], list[str]]:
    """Checks across keys of a validated ``LOGINS.ldap`` (problems, warnings); ``CA_FILE`` is made absolute
    (relative to ``base_dir``, the configuration file's folder)."""
    problems: list[str] = []
    warnings: list[str] = []
    scheme = urlsplit(section["URL"]).scheme.lower() if section["URL"] else ""
    if scheme == "ldaps" and section["START_TLS"]:
        problems.append(
            f"{path}.START_TLS: ldaps:// is TLS from the start; START_TLS upgrades a plain ldap:// "
            "connection: keep only one"
        )
    if section["BIND_DN"] and "{login}" not in section["BIND_DN"] and not section["BIND_PASSWORD"]:
        problems.append(
            f"{path}.BIND_PASSWORD: is empty; a bind with BIND_DN and no password is anonymous to the "
            "directory: set the password, or leave BIND_DN empty for an anonymous search"
        )
    if section["CA_FILE"]:
        ca_file = Path(section["CA_FILE"]).expanduser()
        ca_file = ca_file if ca_file.is_absolute() else (base_dir / ca_file).resolve()
        section["CA_FILE"] = str(ca_file)
        if not ca_file.is_file():
            problems.append(f"{path}.CA_FILE: {str(ca_file)!r} does not exist; expected a PEM file of the CA")
    if scheme == "ldap" and not section["START_TLS"] and not _is_loopback(section["URL"]):
        warnings.append(
            f"{path}.URL: ldap:// without START_TLS sends passwords across the network in clear text; use "
            "ldaps:// or START_TLS: true"
        )
    return problems, warnings


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DirectoryError(Exception):
    """The directory answered, but not as configured (a refused BIND_DN, a missing USER_BASE, ...)."""


class LdapBackend:
    """A :class:`~conexoos.framework.logins.PasswordBackend` asking one LDAP directory or AD domain."""

    name = "ldap"

    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings

    def authenticate(self, login: str, password: str) -> ExternalIdentity | None:
        """The person's identity when ``password`` is theirs; None for an unknown login or a wrong password.

        Raises :class:`LoginUnavailable` when the directory cannot be reached or refuses the search bind.
        """
        if not login.strip() or not password:
            return None  # an empty password would be an anonymous bind, which directories accept
        if not (_is_utf8(login) and _is_utf8(password)):
            return None  # LDAP strings are UTF-8: a lone surrogate cannot be anyone's login or password
        try:
            return self._authenticate(login, password)
        except (DirectoryError, LDAPException) as error:
            log.error("LOGINS.ldap (%s): %s", self.settings.url, _cause(error))
            raise LoginUnavailable(UNAVAILABLE) from error

    def problem(self) -> str | None:
        """For ``config check --connect``: None when the directory answers as configured, else why not."""
        try:
            return self._problem()
        except (DirectoryError, LDAPException) as error:
            return _cause(error)

    def _authenticate(self, login: str, password: str) -> ExternalIdentity | None:
        if self.settings.binds_as_person:
            bind_dn, bind_password = self.settings.bind_dn.replace("{login}", escape_rdn(login)), password
        else:
            bind_dn, bind_password = self.settings.bind_dn, self.settings.bind_password
        connection = self._connect()
        try:
            if not self._bind(connection, bind_dn, bind_password, person=self.settings.binds_as_person):
                return None
            entry = self._find_person(connection, login)
            if entry is None:
                if not self.settings.binds_as_person:
                    self._dummy_bind(password)
                return None
            if self.settings.binds_as_person and not self._bound_as(connection, entry["dn"], login):
                return None
            if not self.settings.binds_as_person and not self._password_matches(entry["dn"], password):
                return None
            return self._identity(entry, self._is_admin(connection, entry["dn"]))
        finally:
            connection.unbind()

    def _server(self) -> Server:
        parts = urlsplit(self.settings.url)
        use_ssl = parts.scheme.lower() == "ldaps"
        tls = None
        if use_ssl or self.settings.start_tls:
            tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.settings.ca_file or None)
        return Server(
            parts.hostname or "",
            port=parts.port or (636 if use_ssl else 389),
            use_ssl=use_ssl,
            tls=tls,
            get_info=NONE,
            connect_timeout=self.settings.timeout,
        )

    def _connect(self) -> Connection:
        """An open connection, upgraded to TLS when START_TLS says so (or refused: nothing goes in clear)."""
        connection = Connection(
            self._server(),
            receive_timeout=self.settings.timeout,
            auto_referrals=False,
            raise_exceptions=False,
            read_only=True,
        )
        connection.open()
        if self.settings.start_tls and not connection.start_tls():
            connection.unbind()
            raise DirectoryError(f"START_TLS was refused: {_describe(connection)}")
        return connection

    def _bind(self, connection: Connection, dn: str, password: str, *, person: bool) -> bool:
        """Bind the search connection: False when the person's own password is wrong (BIND_DN with
        {login}); a refused service account is a :class:`DirectoryError`."""
        if not dn:
            return True  # anonymous search
        if connection.rebind(user=dn, password=_raw(password)):
            return True
        if person and connection.result["result"] in (*REFUSED_PASSWORD, INVALID_DN_SYNTAX):
            return False  # a wrong password, or a login that cannot be part of a DN
        raise DirectoryError(f"the directory refused the bind of BIND_DN {dn!r}: {_describe(connection)}")

    def _find_person(self, connection: Connection, login: str) -> dict[str, Any] | None:
        search_filter = self.settings.user_filter.replace("{login}", escape_filter_chars(login))
        attributes = {
            self.settings.username_attribute,
            self.settings.email_attribute,
            self.settings.name_attribute,
            *SUBJECT_ATTRIBUTES,
        }
        entries = self._search(
            connection, self.settings.user_base, search_filter, sorted(attributes), "USER_BASE", size_limit=2
        )
        if len(entries) > 1:
            log.warning("LOGINS.ldap: USER_FILTER %s matches several entries: refused", search_filter)
        return entries[0] if len(entries) == 1 else None

    def _bound_as(self, connection: Connection, dn: str, login: str) -> bool:
        """Whether the person who bound (BIND_DN with {login}) is the entry USER_FILTER found: with
        ``(mail={login})``, someone whose own bind name equals another person's address would otherwise log
        in as them. The directory says who is bound (WhoAmI, RFC 4532): ``dn:<DN>`` (OpenLDAP, 389-ds) or
        ``u:DOMAIN\\sAMAccountName`` (Active Directory)."""
        bound = connection.extend.standard.who_am_i()
        if connection.result["result"] != SUCCESS:
            raise DirectoryError(f"the directory does not say who is bound (WhoAmI): {_describe(connection)}")
        bound = str(bound or "")
        if bound.lower().startswith("dn:"):
            same = _same_dn(bound[3:], dn)
        elif bound.lower().startswith("u:"):
            same = self._account_name(connection, dn) == bound[2:].rsplit("\\", 1)[-1].lower()
        else:
            same = False
        if not same:
            log.warning(
                "LOGINS.ldap: login %r bound as %r, but USER_FILTER found %r: refused", login, bound, dn
            )
        return same

    def _account_name(self, connection: Connection, dn: str) -> str:
        """The entry's sAMAccountName in lower case (Active Directory), or "" when it has none."""
        connection.search(dn, "(objectClass=*)", search_scope=BASE, attributes=["sAMAccountName"])
        entries = [entry for entry in connection.response or [] if entry.get("type") == "searchResEntry"]
        return ((_first(entries[0], "sAMAccountName") or "") if entries else "").lower()

    def _dummy_bind(self, password: str) -> None:
        """For a login USER_FILTER does not find: the same work as checking a password (a connection and a
        bind, refused), so that the answer's timing does not tell which logins exist."""
        connection = self._connect()
        try:
            connection.rebind(
                user=f"cn=conexoos-no-such-person,{self.settings.user_base}", password=_raw(password)
            )
        finally:
            connection.unbind()

    def _password_matches(self, dn: str, password: str) -> bool:
        connection = self._connect()
        try:
            if connection.rebind(user=dn, password=_raw(password)):
                return True
            if connection.result["result"] in REFUSED_PASSWORD:
                return False
            raise DirectoryError(f"the bind as {dn!r} failed: {_describe(connection)}")
        finally:
            connection.unbind()

    def _is_admin(self, connection: Connection, dn: str) -> bool | None:
        if not self.settings.admin_groups:
            return None
        search_filter = self.settings.group_filter.replace("{dn}", escape_filter_chars(dn))
        base = self.settings.group_base or self.settings.user_base
        groups = self._search(connection, base, search_filter, ["cn"], "GROUP_BASE")
        names = {value.lower() for group in groups for value in _texts(group, "cn")}
        return any(admin.lower() in names for admin in self.settings.admin_groups)

    def _search(
        self,
        connection: Connection,
        base: str,
        search_filter: str,
        attributes: list[str],
        base_key: str,
        size_limit: int = 0,
    ) -> list[dict[str, Any]]:
        connection.search(
            base,
            search_filter,
            search_scope=SUBTREE,
            attributes=attributes,
            size_limit=size_limit,
            time_limit=self.settings.timeout,
        )
        result = connection.result["result"]
        if result == NO_SUCH_OBJECT:
            raise DirectoryError(f"{base_key} {base!r} does not exist in the directory")
        if result not in (SUCCESS, SIZE_LIMIT_EXCEEDED):
            raise DirectoryError(f"the search under {base!r} failed: {_describe(connection)}")
        return [entry for entry in connection.response or [] if entry.get("type") == "searchResEntry"]

    def _identity(self, entry: dict[str, Any], admin: bool | None) -> ExternalIdentity:
        email = _first(entry, self.settings.email_attribute)
        return ExternalIdentity(
            backend="ldap",
            provider="ldap",
            subject=_subject(entry),
            username=_first(entry, self.settings.username_attribute),
            email=email,
            email_verified=bool(email) and self.settings.email_verified,
            name=_first(entry, self.settings.name_attribute),
            admin=admin,
        )

    def _problem(self) -> str | None:
        connection = self._connect()
        try:
            if not self.settings.binds_as_person:
                self._bind(connection, self.settings.bind_dn, self.settings.bind_password, person=False)
            connection.search(self.settings.user_base, "(objectClass=*)", search_scope=BASE, attributes=[])
            if connection.result["result"] != SUCCESS:
                return f"USER_BASE {self.settings.user_base!r} cannot be read: {_describe(connection)}"
            return self._missing_groups(connection)
        finally:
            connection.unbind()

    def _missing_groups(self, connection: Connection) -> str | None:
        if not self.settings.admin_groups:
            return None
        names = "".join(f"(cn={escape_filter_chars(name)})" for name in self.settings.admin_groups)
        base = self.settings.group_base or self.settings.user_base
        groups = self._search(connection, base, f"(|{names})", ["cn"], "GROUP_BASE")
        found = {value.lower() for group in groups for value in _texts(group, "cn")}
        missing = [name for name in self.settings.admin_groups if name.lower() not in found]
        if missing:
            return f"ADMIN_GROUPS {', '.join(missing)} not found under {base!r}"
        return None


def _same_dn(first: str, second: str) -> bool:
    """Whether two DNs name the same entry: attribute types and values compared in any case, spaces
    around separators ignored."""
    try:
        return _dn_key(first) == _dn_key(second)
    except LDAPException:
        return False


def _dn_key(dn: str) -> list[tuple[str, str]]:
    return [(name.lower(), value.lower()) for name, value, _ in parse_dn(dn, strip=True)]


def _raw(password: str) -> bytes:
    """The password as the simple bind sends it: its UTF-8 bytes, as typed. ldap3 would SASLprep a str
    (RFC 4013), refusing tabs, control, private-use and mixed-direction characters that OpenLDAP and Active
    Directory accept in a password (they compare the bytes); bytes are sent unchanged."""
    return password.encode("utf-8")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _cause(error: Exception) -> str:
    """What went wrong, for the operator: the sentence, or the ldap3 error with its class."""
    return str(error) if isinstance(error, DirectoryError) else f"{type(error).__name__}: {error}"


def _describe(connection: Connection) -> str:
    result = connection.result or {}
    text = result.get("description") or "no answer"
    message = (result.get("message") or "").strip()
    return f"{text} ({message})" if message else str(text)


def _raw_values(entry: dict[str, Any], name: str) -> list[bytes]:
    for key, values in (entry.get("raw_attributes") or {}).items():
        if key.lower() == name.lower():
            return list(values)
    return []


def _texts(entry: dict[str, Any], name: str) -> list[str]:
    texts = []
    for value in _raw_values(entry, name):
        try:
            texts.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            continue  # not text (a binary attribute under this name): nothing a person can read
    return texts


def _first(entry: dict[str, Any], name: str) -> str | None:
    texts = [text.strip() for text in _texts(entry, name) if text.strip()]
    return texts[0] if texts else None


def _subject(entry: dict[str, Any]) -> str:
    """OpenLDAP's entryUUID, AD's objectGUID (16 bytes, little-endian fields), else the DN."""
    entry_uuid = _first(entry, "entryUUID")
    if entry_uuid:
        return entry_uuid
    guid = _raw_values(entry, "objectGUID")
    if guid and len(guid[0]) == 16:
        return str(uuid.UUID(bytes_le=guid[0]))
    return str(entry["dn"])


def install(app: Flask, logins: Logins, section: Mapping[str, Any]) -> None:
    """Try the directory of ``LOGINS.ldap`` on the project's login form, in ``LOGINS`` order."""
    logins.add_password_backend(LdapBackend(LdapSettings.from_section(section)))
