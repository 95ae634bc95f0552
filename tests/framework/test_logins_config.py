"""The ``LOGINS`` section: its order, ``local``, each mistake on one line, flask-framework's bare-name form
read from ``FLASK.CONFIG``, secrets redacted, and the failure page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conexoos.framework.app import create_app, runtime
from conexoos.framework.config import Settings, load_settings
from conexoos.framework.errors import ConfigError
from conexoos.framework.logins import LoginFailed, LoginUnavailable
from conexoos.framework.logins.install import new_logins
from conexoos.framework.logins.legacy import legacy_logins
from conexoos.framework.logins.pages import render_login_failure
from conexoos.framework.redaction import redact_tree
from tests.support.saml_idp import write_key_pair

from .helpers import REPO_ROOT, write_project
from .test_cli import command_env, conexoos

LDAP = {
    "URL": "ldaps://ldap.example.org",
    "BIND_DN": "cn=reader,dc=example,dc=org",
    "BIND_PASSWORD": "bind-secret-1",
    "USER_BASE": "ou=people,dc=example,dc=org",
}


def settings_with(logins: Any, tmp_path: Path, **sections: Any) -> Settings:
    """Settings of a configuration file in ``tmp_path`` holding ``LOGINS: logins`` (and ``sections``)."""
    config = tmp_path / "config.json"
    tree = {"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance")}, **sections}
    if logins is not None:
        tree["LOGINS"] = logins
    config.write_text(json.dumps(tree), encoding="utf-8")
    return load_settings(config, environ={}, report_warnings=False)


def problems_of(logins: Any, tmp_path: Path, **sections: Any) -> list[str]:
    """The problems a configuration with ``LOGINS: logins`` is refused with."""
    with pytest.raises(ConfigError) as refused:
        settings_with(logins, tmp_path, **sections)
    for problem in refused.value.problems:
        assert "\n" not in problem
    return refused.value.problems


# ---------------------------------------------------------------- shape and order


def test_without_logins_only_the_local_login_is_on(tmp_path: Path) -> None:
    settings = settings_with(None, tmp_path)
    assert settings.tree["LOGINS"] == {"local": {"ENABLED": True}}
    logins = new_logins(settings)
    assert logins.local_enabled and logins.order == ["local"]


def test_the_order_of_logins_is_the_order_written(tmp_path: Path) -> None:
    settings = settings_with({"ldap": LDAP, "local": {}}, tmp_path)
    assert list(settings.tree["LOGINS"]) == ["ldap", "local"]
    assert new_logins(settings).order == ["ldap", "local"]
    assert settings.tree["LOGINS"]["ldap"]["USER_FILTER"] == "(uid={login})"  # defaults filled in
    assert settings.tree["LOGINS"]["ldap"]["TIMEOUT"] == 5


def test_local_is_off_when_absent_or_disabled(tmp_path: Path) -> None:
    for logins in ({"ldap": LDAP}, {"local": {"ENABLED": False}, "ldap": LDAP}):
        registry = new_logins(settings_with(logins, tmp_path))
        assert not registry.local_enabled
        assert registry.order == ["ldap"]


def test_a_configuration_with_no_way_to_log_in_is_refused(tmp_path: Path) -> None:
    assert problems_of({"local": {"ENABLED": False}}, tmp_path) == [
        "LOGINS: no way to log in is left on; keep local (ENABLED: true) or add ldap, oidc or saml"
    ]


def test_an_unknown_backend_is_refused_and_a_name_in_another_case_is_read(tmp_path: Path) -> None:
    assert problems_of({"local": {}, "kerberos": {}}, tmp_path) == [
        "LOGINS.kerberos: unknown login backend; expected one of local, ldap, oidc, saml"
    ]
    settings = settings_with({"LDAP": LDAP}, tmp_path)
    assert "ldap" in settings.tree["LOGINS"]
    assert "LOGINS.LDAP is read as LOGINS.ldap; write it ldap" in settings.warnings


def test_logins_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems_of(42, tmp_path) == [
        "LOGINS: int is not valid; expected a mapping of login backends (local, ldap, oidc, saml) in the "
        "order the login page shows them"
    ]


# ---------------------------------------------------------------- LDAP keys


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"URL": "http://ldap.example.org"}, "LOGINS.ldap.URL: 'http://ldap.example.org' is not valid"),
        ({"URL": "ldap://"}, "LOGINS.ldap.URL: 'ldap://' is not valid; expected an ldap:// or ldaps:// URL"),
        ({"URL": ""}, "LOGINS.ldap.URL: is missing; expected an ldap:// or ldaps:// URL"),
        ({"USER_BASE": ""}, "LOGINS.ldap.USER_BASE: is missing; expected a string"),
        (
            {"USER_FILTER": "(uid=alice)"},
            "LOGINS.ldap.USER_FILTER: '(uid=alice)' is not valid; expected a valid LDAP filter holding "
            "{login}",
        ),
        ({"USER_FILTER": "(uid={login}"}, "LOGINS.ldap.USER_FILTER: '(uid={login}' is not valid"),
        (
            {"GROUP_FILTER": "(member=uid=alice)"},
            "LOGINS.ldap.GROUP_FILTER: '(member=uid=alice)' is not valid; expected a valid LDAP filter "
            "holding {dn}",
        ),
        ({"TIMEOUT": 0}, "LOGINS.ldap.TIMEOUT: 0 is not valid; expected an integer from 1 to 120"),
        ({"START_TLS": True}, "LOGINS.ldap.START_TLS: ldaps:// is TLS from the start"),
        ({"BIND_PASSWORD": ""}, "LOGINS.ldap.BIND_PASSWORD: is empty; a bind with BIND_DN and no password"),
        ({"CA_FILE": "missing-ca.pem"}, "LOGINS.ldap.CA_FILE: '"),
        ({"ADMIN_GROUPS": {"admins": True}}, "LOGINS.ldap.ADMIN_GROUPS: {'admins': True} is not valid"),
    ],
)
def test_ldap_mistakes_are_one_line_each(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    problems = problems_of({"ldap": {**LDAP, **change}}, tmp_path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


def test_the_ca_file_is_found_beside_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "directory-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    settings = settings_with({"ldap": {**LDAP, "CA_FILE": "directory-ca.pem"}}, tmp_path)
    assert settings.tree["LOGINS"]["ldap"]["CA_FILE"] == str(tmp_path / "directory-ca.pem")
    problem = problems_of({"ldap": {**LDAP, "CA_FILE": "missing-ca.pem"}}, tmp_path)[0]
    assert problem == (
        f"LOGINS.ldap.CA_FILE: '{tmp_path / 'missing-ca.pem'}' does not exist; expected a PEM file of the CA"
    )


def test_admin_groups_take_a_list_or_a_comma_separated_variable(tmp_path: Path) -> None:
    as_list = settings_with({"ldap": {**LDAP, "ADMIN_GROUPS": ["admins", "ops"]}}, tmp_path)
    as_text = settings_with({"ldap": {**LDAP, "ADMIN_GROUPS": "admins, ops"}}, tmp_path)
    assert as_list.tree["LOGINS"]["ldap"]["ADMIN_GROUPS"] == ["admins", "ops"]
    assert as_text.tree["LOGINS"]["ldap"]["ADMIN_GROUPS"] == ["admins", "ops"]


def test_plain_ldap_to_another_host_is_a_warning(tmp_path: Path) -> None:
    remote = settings_with({"ldap": {**LDAP, "URL": "ldap://ldap.example.org"}}, tmp_path)
    assert any("ldap:// without START_TLS sends passwords" in warning for warning in remote.warnings)
    for url, start_tls in (("ldap://127.0.0.1:3389", False), ("ldap://ldap.example.org", True)):
        quiet = settings_with({"ldap": {**LDAP, "URL": url, "START_TLS": start_tls}}, tmp_path)
        assert not any("clear text" in warning for warning in quiet.warnings)


def test_the_readmes_ldap_examples_pass_config_check(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    examples = [
        block
        for block in re.findall(r"^```yaml\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)
        if block.startswith("LOGINS:\n") and "\n  ldap:\n" in block
    ]
    assert len(examples) == 2  # OpenLDAP and Active Directory
    for name in ("ldap-ca.pem", "corp-root-ca.pem"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    for example in examples:
        config = tmp_path / "config.yml"
        config.write_text(example, encoding="utf-8")
        settings = load_settings(
            config, environ={"LDAP_BIND_PASSWORD": "ldap-bind-pw", "AD_BIND_PASSWORD": "ad-bind-pw"}
        )
        assert settings.warnings == []
        assert settings.tree["LOGINS"]["ldap"]["ADMIN_GROUPS"]


# ---------------------------------------------------------------- flask-framework's form


FLASK_FRAMEWORK_LDAP = {  # examples/ldap/config/config.yml of flask-framework 1.1.x
    "LDAP_DOMAIN": "company.com",
    "LDAP_SEARCH_BASE": "ou=user,dc=company,dc=com",
    "LDAP_BIND_USER": "ou=users,dc=company,dc=com",
    "LDAP_LOGIN_TEMPLATE": "login/ldap.html",
}


@pytest.mark.parametrize("written", ["LDAP", "ldap", ["LDAP"]])
def test_flask_frameworks_ldap_is_read_from_flask_config(tmp_path: Path, written: Any) -> None:
    settings = settings_with(written, tmp_path, FLASK={"CONFIG": FLASK_FRAMEWORK_LDAP})
    logins = settings.tree["LOGINS"]
    assert list(logins) == ["local", "ldap"]
    ldap = logins["ldap"]
    assert ldap["URL"] == "ldap://company.com"
    assert ldap["BIND_DN"] == "{login}"  # flask-framework bound as the person, with what they typed
    assert ldap["USER_BASE"] == "ou=user,dc=company,dc=com"
    assert ldap["USER_FILTER"] == "(&(objectClass=user)(mail={login}))"
    assert ldap["USERNAME_ATTRIBUTE"] == "sAMAccountName"
    warning = next(line for line in settings.warnings if "flask-framework" in line)
    assert "write instead" in warning and '"USER_BASE": "ou=user,dc=company,dc=com"' in warning


def test_flask_frameworks_host_port_and_scheme_make_the_url(tmp_path: Path) -> None:
    flask_config = {
        "LDAP_HOSTS": ["dc1.company.com", "dc2.company.com"],
        "LDAP_PORT": 636,
        "LDAP_SCHEMA": "LDAPS",
        "LDAP_DOMAIN": "company.com",
        "LDAP_PROFILE_KEY": "userPrincipalName",
        "LDAP_ATTRIBUTE_MAP": {"email": "proxyAddresses"},
    }
    ldap = settings_with("LDAP", tmp_path, FLASK={"CONFIG": flask_config}).tree["LOGINS"]["ldap"]
    assert ldap["URL"] == "ldaps://dc1.company.com:636"
    assert ldap["USER_BASE"] == "dc=company,dc=com"  # from the domain when LDAP_SEARCH_BASE is absent
    assert (ldap["USERNAME_ATTRIBUTE"], ldap["EMAIL_ATTRIBUTE"]) == ("userPrincipalName", "proxyAddresses")


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("ldap://dc1", None, "ldap://dc1"),
        ("ldaps://dc1.company.com", 636, "ldaps://dc1.company.com:636"),
        ("ldaps://dc1.company.com:3269", 636, "ldaps://dc1.company.com:3269"),
    ],
)
def test_flask_frameworks_ldap_host_may_be_a_whole_url(
    tmp_path: Path, host: str, port: int | None, url: str
) -> None:
    flask_config = {**FLASK_FRAMEWORK_LDAP, "LDAP_HOST": host, "LDAP_PORT": port}
    assert (
        settings_with("LDAP", tmp_path, FLASK={"CONFIG": flask_config}).tree["LOGINS"]["ldap"]["URL"] == url
    )


def test_mistakes_in_flask_frameworks_form_name_the_flask_config_key(tmp_path: Path) -> None:
    flask_config = {
        **FLASK_FRAMEWORK_LDAP,
        "LDAP_HOST": "ldap://dc1/some/path",
        "SAML_METADATA_URL": "http://idp.example.org/metadata.xml",
    }
    problems = problems_of(["LDAP", "SAML2"], tmp_path, FLASK={"CONFIG": flask_config})
    assert len(problems) == 2, problems
    assert problems[0].startswith(
        "FLASK.CONFIG.LDAP_HOST (or LDAP_HOSTS, LDAP_DOMAIN, with LDAP_SCHEMA and LDAP_PORT), read as "
        "LOGINS.ldap.URL: 'ldap://dc1/some/path' is not valid"
    )
    assert problems[1].startswith("FLASK.CONFIG.SAML_METADATA_URL, read as LOGINS.saml.IDP_METADATA: ")
    assert "plain http" in problems[1]


def test_flask_frameworks_list_reads_openid_and_saml_too(tmp_path: Path) -> None:
    secrets = tmp_path / "secret.json"
    secrets.write_text(
        json.dumps(
            {"client_id": "links", "client_secret": "oidc-secret-2", "issuer": "https://idp/realms/x"}
        ),
        encoding="utf-8",
    )
    flask_config = {
        **FLASK_FRAMEWORK_LDAP,
        "OIDC_CLIENT_SECRETS": "secret.json",  # relative to the configuration file, like every path
        "OIDC-SCOPES": ["openid", "email"],
        "SAML_METADATA_URL": "https://idp.example.org/metadata.xml",
    }
    settings = settings_with(["LDAP", "OpenID", "SAML2"], tmp_path, FLASK={"CONFIG": flask_config})
    assert list(settings.tree["LOGINS"]) == ["local", "ldap", "oidc", "saml"]
    warning = next(line for line in settings.warnings if "flask-framework" in line)
    assert "oidc-secret-2" not in warning and "${OIDC_OPENID_SECRET}" in warning
    # What the oidc and saml schemas then validate:
    report = Report()
    raw = {"FLASK": {"CONFIG": flask_config}}
    logins = legacy_logins(["LDAP", "OpenID", "SAML2"], raw, tmp_path, report)
    assert logins is not None and not report.problems
    assert logins["oidc"] == {
        "openid": {
            "ISSUER": "https://idp/realms/x",
            "CLIENT_ID": "links",
            "CLIENT_SECRET": "oidc-secret-2",
            "SCOPES": ["openid", "email"],
        }
    }
    assert logins["saml"] == {"IDP_METADATA": "https://idp.example.org/metadata.xml"}


class Report:
    """Problems and warnings, as the configuration validator collects them."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []


def test_a_listed_base_login_keeps_its_place(tmp_path: Path) -> None:
    settings = settings_with(["LDAP", "BASE"], tmp_path, FLASK={"CONFIG": FLASK_FRAMEWORK_LDAP})
    assert list(settings.tree["LOGINS"]) == ["ldap", "local"]


@pytest.mark.parametrize(
    ("written", "flask_config", "expected"),
    [
        ("LDAP", {}, "LOGINS: LDAP (flask-framework's form) needs FLASK.CONFIG.LDAP_HOST (or LDAP_DOMAIN)"),
        ("OpenID", {}, "LOGINS: OpenID (flask-framework) needs FLASK.CONFIG.OIDC_CLIENT_SECRETS"),
        ("OpenID", {"OIDC_CLIENT_SECRETS": "none.json"}, "FLASK.CONFIG.OIDC_CLIENT_SECRETS: cannot read"),
        ("SAML2", {}, "LOGINS: SAML2 (flask-framework's form) needs FLASK.CONFIG.SAML_METADATA_URL"),
        ("SSO", {}, "LOGINS: SSO (flask-framework's header-based flask_sso) has no equivalent"),
        ("Kerberos", {}, "LOGINS: 'Kerberos' is not a login backend; expected LDAP, OpenID or SAML2"),
    ],
)
def test_flask_frameworks_form_that_cannot_be_read_is_one_line(
    tmp_path: Path, written: str, flask_config: dict[str, Any], expected: str
) -> None:
    problems = problems_of(written, tmp_path, FLASK={"CONFIG": flask_config})
    assert len(problems) == 1 and problems[0].startswith(expected), problems


# ---------------------------------------------------------------- secrets


SECRETS = {
    "local": {},
    "ldap": {**LDAP, "TIMEOUT": 3},
    "oidc": {
        "keycloak": {
            "ISSUER": "https://kc.example.org/realms/x",
            "CLIENT_ID": "conexoos",
            "CLIENT_SECRET": "oidc-secret-4",
        }
    },
    "saml": {
        "IDP_METADATA": "https://idp.example.org/metadata.xml",
        "SP_CERT": "sp.crt",
        "SP_KEY": "saml-key-5",
        "SP_KEY_PASSWORD": "saml-secret-6",
    },
}


def write_saml_key_pair(folder: Path) -> None:
    """The files SECRETS' saml section names (SP_CERT and SP_KEY are checked to be a matching pair)."""
    key, cert = write_key_pair(folder, "saml", "localhost")
    key.rename(folder / "saml-key-5")
    cert.rename(folder / "sp.crt")


def test_login_secrets_are_redacted_for_display(tmp_path: Path) -> None:
    write_saml_key_pair(tmp_path)
    settings = settings_with(SECRETS, tmp_path)
    assert settings.tree["LOGINS"]["ldap"]["BIND_PASSWORD"] == "bind-secret-1"  # the app reads the real one
    assert settings.redacted()["LOGINS"]["ldap"]["BIND_PASSWORD"] == "***"
    shown = json.dumps(redact_tree({"LOGINS": SECRETS}))  # every backend's keys, whatever its schema
    for secret in ("bind-secret-1", "oidc-secret-4", "saml-key-5", "saml-secret-6"):
        assert secret not in shown
    assert "https://kc.example.org/realms/x" in shown


def test_config_show_and_check_redact_login_secrets(tmp_path: Path) -> None:
    write_saml_key_pair(tmp_path)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"SERVER_ENV": {"INSTANCE_PATH": "instance"}, "LOGINS": SECRETS}), encoding="utf-8"
    )
    shown = conexoos("config", "show", "--config", str(config), cwd=tmp_path, env=command_env())
    assert shown.returncode == 0, shown.stderr
    assert "LOGINS" in shown.stdout and "ldap.example.org" in shown.stdout
    checked = conexoos("config", "check", "--config", str(config), cwd=tmp_path, env=command_env())
    for output in (shown.stdout + shown.stderr, checked.stdout + checked.stderr):
        for secret in ("bind-secret-1", "oidc-secret-4", "saml-key-5", "saml-secret-6"):
            assert secret not in output


def test_a_password_in_the_url_is_refused_without_being_shown(tmp_path: Path) -> None:
    url = "ldaps://reader:url-secret-3@ldap.example.org"
    assert problems_of({"ldap": {**LDAP, "URL": url}}, tmp_path) == [
        "LOGINS.ldap.URL: 'ldaps://reader:***@ldap.example.org' is not valid; expected an ldap:// or "
        "ldaps:// URL with a host, e.g. ldaps://ldap.example.org"
    ]
    assert problems_of({"ldap": {**LDAP, "URL": "ldaps://:url-secret-3@ldap.example.org"}}, tmp_path) == [
        "LOGINS.ldap.URL: 'ldaps://:***@ldap.example.org' is not valid; expected an ldap:// or "
        "ldaps:// URL with a host, e.g. ldaps://ldap.example.org"
    ]


def test_credentials_in_the_saml_metadata_url_are_refused_without_being_shown() -> None:
    from conexoos.framework.logins.saml_metadata import metadata_source_problem

    problem = metadata_source_problem("https://reader:meta-secret-7@idp.example.org/metadata")
    assert problem is not None and "credentials" in problem and "meta-secret-7" not in problem


# ---------------------------------------------------------------- the failure page


def test_the_failure_page_says_what_happened_escaped(bare_project: Path, tmp_path: Path) -> None:
    app = create_app(bare_project, overrides={"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance")}})
    with app.test_request_context("/"):
        html, status = render_login_failure(LoginFailed("The sign-in took too long <script>x</script>."))
        assert status == 400
        assert "You could not be logged in" in html
        assert "The sign-in took too long &lt;script&gt;x&lt;/script&gt;." in html
        html, status = render_login_failure(LoginUnavailable("The directory cannot be reached."))
        assert status == 503
        assert "unavailable right now" in html and "The directory cannot be reached." in html
        assert isinstance(runtime().logins.order, list)


def test_a_project_overrides_the_failure_page_by_name(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        {"template/logins/failed.html": "<p class=mine>{{ message }} ({{ status }})</p>"},
    )
    app = create_app(project, overrides={"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance")}})
    with app.test_request_context("/"):
        html, status = render_login_failure(LoginFailed("Refused.", status=403))
    assert (html, status) == ("<p class=mine>Refused. (403)</p>", 403)


# ---------------------------------------------------------------- the project's login handler


def test_a_redirect_login_without_a_handler_stops_the_start(bare_project: Path, tmp_path: Path) -> None:
    from conexoos.framework.errors import ConfigError

    overrides = {
        "SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance")},
        "LOGINS": {
            "local": {},
            "oidc": {"corp": {"ISSUER": "https://idp.example", "CLIENT_ID": "c", "CLIENT_SECRET": "s"}},
        },
    }
    with pytest.raises(ConfigError) as raised:
        create_app(bare_project, overrides=overrides)
    assert raised.value.problems == [
        "LOGINS.oidc: enabled, but the project registered no login handler; call "
        "runtime().logins.on_login(handler) in server/web.py (the framework never creates users)"
    ]


def test_a_password_backend_alone_needs_no_handler_and_has_handler_tells() -> None:
    from conexoos.framework.logins import Logins
    from conexoos.framework.logins.base import LoginButton

    registry = Logins()
    registry.require_handler()  # local or LDAP only: the project's form calls the backends itself
    registry.add_button(LoginButton("saml", "saml", "SSO", "/saml/login"))
    assert not registry.has_handler
    with pytest.raises(
        ConfigError, match="LOGINS.saml: enabled, but the project registered no login handler"
    ):
        registry.require_handler()
    registry.on_login(lambda identity: "")
    assert registry.has_handler
    registry.require_handler()
