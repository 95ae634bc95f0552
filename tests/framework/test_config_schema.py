"""A project's own configuration keys: declared in its server/config.py with the framework's schema classes,
validated like the framework's keys in `config check`, at start-up and in every command."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from conexoos.framework import ConfigError, ProjectError, create_app, load_settings
from conexoos.framework.config import check_value
from conexoos.framework.project import _check_project_schema, locate_project, project_schema
from conexoos.framework.reference import project_reference
from conexoos.framework.schema import Entries, Key, Schema

from .helpers import write_files, write_project
from .test_cli import conexoos

SHOP: Schema = {
    "URL": Key("str", "", "Shop address.", required=True),
    "DAILY_LIMIT": Key("int", None, "Orders a day.", minimum=0, nullable=True),
    "MODE": Key("choice", "live", "live or test.", choices=("live", "test")),
    "FEE": Key("int", 5, "Fee.", minimum=0, maximum=100, empty_means_default=True),
}
SHOPS = Entries(
    SHOP, "Shops.", required=("main",), case_tolerant=True, default={"main": {"URL": "https://a"}}
)

PROJECT_SCHEMA = """
from conexoos.framework.schema import Entries, Key

SCHEMA = {
    "APP": {
        "SHOPS": Entries(
            {
                "URL": Key("str", "", "Shop address.", required=True),
                "DAILY_LIMIT": Key("int", None, "Orders a day.", minimum=0, nullable=True),
            },
            "Shops.",
            required=("main",),
            case_tolerant=True,
        ),
        "RETRIES": Key("int", 3, "Retries.", minimum=0),
    },
    "SERVICES": {"mailer": {"TOKEN": Key("str", "", "Token.", secret=True)}},
}
"""
PROJECT_WEB = """
from conexoos.framework import runtime


class Route:
    def __init__(self, app):
        app.add_url_rule("/", "home", lambda: repr(runtime().settings.tree["APP"]))
"""
PROJECT_COMMANDS = """
import click


class Commands:
    def __init__(self, cli):
        @cli.command("hello")
        def hello():
            '''Say hello.'''
            click.echo("hello")
"""


def shop_project(root: Path) -> Path:
    return write_project(
        root,
        {
            "server/config.py": PROJECT_SCHEMA,
            "server/web.py": PROJECT_WEB,
            "server/commands.py": PROJECT_COMMANDS,
        },
    )


def checked(raw: object) -> tuple[object, list[str], list[str]]:
    result = check_value(raw, SHOPS, "APP.SHOPS")
    return result.value, result.problems, result.warnings


# ---------------------------------------------------------------- the machinery


def test_entries_are_validated_under_their_free_form_ids() -> None:
    value, problems, warnings = checked(
        {"main": {"URL": "https://main", "DAILY_LIMIT": None, "MODE": "TEST", "FEE": ""}, "eu": {"URL": "x"}}
    )
    assert problems == [] and warnings == []
    assert value == {
        "main": {"URL": "https://main", "DAILY_LIMIT": None, "MODE": "test", "FEE": 5},
        "eu": {"URL": "x", "DAILY_LIMIT": None, "MODE": "live", "FEE": 5},
    }


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param(
            {"main": {"URL": "u", "DAILY_LIMIT": -5}},
            "APP.SHOPS.main.DAILY_LIMIT: -5 is not valid; expected an integer from 0, or null",
            id="minimum",
        ),
        pytest.param(
            {"main": {"URL": "u", "DAILY_LIMIT": True}},
            "APP.SHOPS.main.DAILY_LIMIT: True is not valid; expected an integer from 0, or null",
            id="bool-is-not-an-integer",
        ),
        pytest.param(
            {"main": {"URL": "u", "FEE": 101}},
            "APP.SHOPS.main.FEE: 101 is not valid; expected an integer from 0 to 100",
            id="maximum",
        ),
        pytest.param(
            {"main": {"URL": "u", "MODE": "dry"}},
            "APP.SHOPS.main.MODE: 'dry' is not valid; expected one of live, test",
            id="choice",
        ),
        pytest.param(
            {"main": {"MODE": "live"}}, "APP.SHOPS.main.URL: is missing; expected a string", id="required"
        ),
        pytest.param(
            {"main": {"URL": ""}}, "APP.SHOPS.main.URL: is missing; expected a string", id="required-empty"
        ),
        pytest.param(
            {"eu": {"URL": "u"}}, "APP.SHOPS: 'main' is required; add APP.SHOPS.main", id="required-entry"
        ),
        pytest.param(
            {"main": {"URL": "u"}, "eu": 3},
            "APP.SHOPS.eu: 3 is not valid; expected a mapping of keys to values",
        ),
        pytest.param(
            ["main"], "APP.SHOPS: ['main'] is not valid; expected a mapping of ids to their settings"
        ),
        pytest.param(
            {"main": {"URL": "u", "url": "v"}},
            "APP.SHOPS.main.url: URL is set twice; keep only APP.SHOPS.main.URL",
            id="twice-in-two-cases",
        ),
    ],
)
def test_each_mistake_is_one_line(raw: object, problem: str) -> None:
    _value, problems, _warnings = checked(raw)
    assert problems == [problem]


def test_an_unquoted_yaml_boolean_is_read_as_the_choice_it_spells() -> None:
    """``VERIFY_EMAIL: off`` (the README's own spelling) reached the key as False, and was refused."""
    toggle = Key("choice", "required", "m", choices=("required", "optional", "off"))
    assert check_value(False, toggle, "APP.V").value == "off"
    assert check_value("OFF", toggle, "APP.V").value == "off"
    switch = Key("choice", "auto", "m", choices=("auto", "on", "no"))
    assert check_value(True, switch, "APP.S").value == "on"
    assert check_value(False, switch, "APP.S").value == "no"
    assert check_value(True, toggle, "APP.V").problems == [  # no choice spelt yes, on or true: say why
        "APP.V: YAML reads an unquoted on, yes or true as the boolean true; put the word in quotes if you "
        "meant it; expected one of required, optional, off"
    ]
    assert check_value(False, Key("str", "", "m"), "APP.NAME").problems == [
        "APP.NAME: YAML reads an unquoted off, no or false as the boolean false; put the word in quotes if "
        "you meant it; expected a string"
    ]


def test_absent_or_empty_entries_take_the_declared_default() -> None:
    for raw in (None, {}):
        value, problems, _warnings = checked(raw)
        assert problems == []
        assert value == {"main": {"URL": "https://a", "DAILY_LIMIT": None, "MODE": "live", "FEE": 5}}


def test_case_tolerant_keys_are_read_with_a_warning_and_unknown_ones_ignored() -> None:
    value, problems, warnings = checked({"main": {"url": "https://m", "Daily_Limit": 4, "MOOD": "x"}})
    assert problems == []
    assert value == {"main": {"URL": "https://m", "DAILY_LIMIT": 4, "MODE": "live", "FEE": 5}}
    assert warnings == [
        "APP.SHOPS.main.url is read as APP.SHOPS.main.URL; write it URL",
        "APP.SHOPS.main.Daily_Limit is read as APP.SHOPS.main.DAILY_LIMIT; write it DAILY_LIMIT",
        "unknown key APP.SHOPS.main.MOOD is ignored; did you mean APP.SHOPS.main.MODE?",
    ]


def test_keys_are_case_sensitive_where_not_declared_tolerant() -> None:
    result = check_value({"url": "u"}, SHOP, "APP.SHOP")
    assert result.problems == [
        "APP.SHOP.url: keys are read as declared here; write it APP.SHOP.URL "
        "(as written it would be ignored)",
        "APP.SHOP.URL: is missing; expected a string",
    ]
    assert result.warnings == []  # a key in the wrong case is a mistake, never silently ignored (Env: PROD)
    assert check_value({"URL_OF": "u", "URL": "u"}, SHOP, "APP.SHOP").warnings == [
        "unknown key APP.SHOP.URL_OF is ignored; did you mean APP.SHOP.URL?"
    ]


def test_convert_refuses_with_the_declared_expectation() -> None:
    def even(number: int) -> int:
        if number % 2:
            raise ValueError("odd")
        return number

    key = Key("int", 0, "An even number.", convert=even, expected="an even integer")
    assert check_value(4, key, "APP.N").value == 4
    assert check_value(3, key, "APP.N").problems == ["APP.N: 3 is not valid; expected an even integer"]


# ---------------------------------------------------------------- a project declares its sections


def test_a_project_without_server_config_declares_nothing(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "plain", {"server/web.py": "class Route:\n    def __init__(self, app): pass\n"}
    )
    assert project_schema(locate_project(root)) == {}


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (
            '{"SERVER_ENV": {}}',
            "'SERVER_ENV' cannot be declared by a project; declare keys under APP or SERVICES or FLASK",
        ),
        ('{"SERVICES": {"redis": {}}}', "SERVICES.redis is declared by the framework"),
        ('{"FLASK": {"ROUTES": {}}}', "FLASK declares only CONFIG, a mapping of FLASK.CONFIG keys"),
        ('{"FLASK": {"CONFIG": 1}}', "FLASK declares only CONFIG, a mapping of FLASK.CONFIG keys"),
        ("[1]", "is not a mapping of sections"),
    ],
)
def test_a_project_cannot_redeclare_the_framework(tmp_path: Path, declared: str, message: str) -> None:
    root = write_project(tmp_path / "bad", {"server/config.py": f"SCHEMA = {declared}\n"})
    with pytest.raises(ProjectError, match=message):
        project_schema(locate_project(root))


def test_a_project_declares_the_flask_settings_its_pages_rely_on(tmp_path: Path) -> None:
    """Its forms may send their token in a field of its choosing: a FLASK.CONFIG key it declares is checked
    by its declaration, in config check as at start, and named in the project's reference."""
    declared = (
        "from conexoos.framework.schema import Key\n"
        'SCHEMA = {"FLASK": {"CONFIG": {"WTF_CSRF_FIELD_NAME": Key("choice", "token", "Forms send token.", '
        'choices=("token",))}}}\n'
    )
    root = write_project(tmp_path / "pinned", {"server/config.py": declared})
    schema_of_project = project_schema(locate_project(root))
    renamed = {"FLASK": {"CONFIG": {"WTF_CSRF_FIELD_NAME": "csrf_token"}}}
    with pytest.raises(
        ConfigError, match=r"WTF_CSRF_FIELD_NAME: 'csrf_token' is not valid; expected one of token"
    ):
        load_settings(overrides=renamed, project_schema=schema_of_project)
    kept = {"FLASK": {"CONFIG": {"WTF_CSRF_FIELD_NAME": "token"}}}
    assert load_settings(overrides=kept, project_schema=schema_of_project).tree["FLASK"]["CONFIG"] == {
        "WTF_CSRF_FIELD_NAME": "token"
    }
    assert "#### `FLASK.CONFIG`" in project_reference(schema_of_project)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ('{"MODE": "live"}', "APP.MODE: 'live' is no declaration; declare a Key, an Entries or a mapping"),
        ('{"MODE": Key("string", "live", "m")}', "APP.MODE: kind 'string' is not one of str, int, bool"),
        ('{"MODE": Key("choice", "live", "m")}', "APP.MODE: a choice needs its choices"),
        (
            '{"MODE": Key("choice", "nope", "m", choices=("live", "test"))}',
            "APP.MODE: its default 'nope' is not valid; expected one of live, test",
        ),
        ('{"N": {"MAX": Key("int", "ten", "m")}}', "APP.N.MAX: its default 'ten' is not valid; expected an"),
        (
            '{"N": Key("int", 5, "m", minimum=10)}',
            "APP.N: its default 5 is not valid; expected an integer from",
        ),
        ('{"N": Key("int", 1, "m", minimum=10, maximum=2)}', "APP.N: its minimum 10 is above its maximum 2"),
        ('{"SHOPS": Entries("URL", "m")}', "APP.SHOPS: the shape of its entries is 'URL'; give a mapping"),
        (
            '{"SHOPS": Entries({"URL": Key("url", "", "m")}, "m")}',
            r"APP.SHOPS.<id>.URL: kind 'url' is not one of",
        ),
        (
            '{"SHOPS": Entries({"N": Key("int", 1, "m")}, "m", default={"a": {"N": "x"}})}',
            "APP.SHOPS: its default entries are not valid \\(APP.SHOPS.a.N: 'x' is not valid",
        ),
        ('{1: Key("int", 1, "m")}', "APP: 1 is no key name"),
        (
            '{"ON": Key("bool", "no", "m")}',
            "APP.ON: its default 'no' is not True or False",
        ),  # a truthy string
        ('{"M": Key("choice", "a", "m", choices="abc")}', "APP.M: a choice needs its choices as a tuple"),
        ('{"S": Key("str", "x", "m", minimum=1)}', "APP.S: minimum and maximum bound an int key, not a str"),
        ('{"S": Key("str", "x", "m", convert=5)}', "APP.S: convert is 5; give a function"),
        (
            '{"SHOPS": Entries({"URL": Key("str", "", "m")}, "m", required="main")}',
            "APP.SHOPS: required names the ids that must exist, as a tuple of strings",
        ),
    ],
)
def test_a_mistaken_declaration_is_one_line_naming_its_key(
    tmp_path: Path, declared: str, message: str
) -> None:
    """Each was a traceback on the first start that read the key, or a default no configuration could give."""
    module = f"from conexoos.framework.schema import Entries, Key\n\nSCHEMA = {{'APP': {declared}}}\n"
    root = write_project(tmp_path / "bad", {"server/config.py": module})
    with pytest.raises(ProjectError, match=message):
        project_schema(locate_project(root))


def test_a_mistaken_declaration_stops_every_command_in_one_line(tmp_path: Path) -> None:
    module = "from conexoos.framework.schema import Key\n\nSCHEMA = {'APP': {'MODE': 'live'}}\n"
    root = write_project(tmp_path / "bad", {"server/config.py": module, "config.yml": "APP:\n  MODE: live\n"})
    result = conexoos("config", "check", "--project", str(root), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert output.strip().splitlines()[-1].startswith("project error: server.config.SCHEMA ("), output
    assert "Traceback" not in output


def test_the_app_reads_the_declared_sections_typed(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop")
    config = write_files(
        tmp_path, {"c.yml": "APP:\n  SHOPS:\n    main: {url: 'https://m', DAILY_LIMIT: '7'}\n"}
    )
    app = create_app(root, config / "c.yml", overrides={"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "i")}})
    assert app.extensions["conexoos"].settings.tree["APP"] == {
        "SHOPS": {"main": {"URL": "https://m", "DAILY_LIMIT": 7}},
        "RETRIES": 3,
    }
    assert "APP.SHOPS.main.url is read as" in app.extensions["conexoos"].settings.warnings[0]


def test_settings_loaded_without_the_project_are_validated_by_the_factory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = shop_project(tmp_path / "shop")
    path = write_files(tmp_path, {"c.yml": "APP:\n  SHOPS:\n    main: {URL: u, daily_limit: -1}\n"}) / "c.yml"
    settings = load_settings(path, environ={})  # no project: APP is read as written
    assert settings.tree["APP"] == {"SHOPS": {"main": {"URL": "u", "daily_limit": -1}}}
    with pytest.raises(ConfigError) as caught:
        create_app(root, settings)
    assert caught.value.problems == [
        "APP.SHOPS.main.DAILY_LIMIT: -1 is not valid; expected an integer from 0, or null"
    ]
    good = load_settings(write_files(tmp_path, {"g.yml": "APP:\n  SHOPS:\n    main: {url: u}\n"}) / "g.yml")
    good.tree["SERVER_ENV"]["INSTANCE_PATH"] = str(tmp_path / "i")
    with caplog.at_level(logging.WARNING, logger="conexoos.config"):
        create_app(root, good)
    assert good.tree["APP"]["SHOPS"] == {"main": {"URL": "u", "DAILY_LIMIT": None}}
    assert "config: APP.SHOPS.main.url is read as APP.SHOPS.main.URL; write it URL" in caplog.text


def test_declared_service_secrets_are_redacted(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop")
    text = "APP:\n  SHOPS:\n    main: {URL: u}\nSERVICES:\n  mailer: {TOKEN: abc-secret-1, HOST: m}\n"
    path = write_files(tmp_path, {"c.yml": text}) / "c.yml"
    settings = load_settings(path, environ={}, project_schema=project_schema(locate_project(root)))
    assert settings.redacted()["SERVICES"]["mailer"] == {"TOKEN": "***"}
    assert "unknown key SERVICES.mailer.HOST is ignored; known keys: TOKEN" in settings.warnings


BAD_SHOPS = "APP:\n  SHOPS:\n    main: {URL: u, DAILY_LIMIT: -5}\n"
BAD_LINE = "config error: APP.SHOPS.main.DAILY_LIMIT: -5 is not valid; expected an integer from 0, or null"


@pytest.mark.parametrize(
    "words",
    [("config", "check"), ("config", "show"), ("routes",), ("hello",), ("db", "current"), ("shell",)],
    ids=" ".join,
)
def test_every_command_refuses_the_same_mistake_with_the_same_line(
    tmp_path: Path, words: tuple[str, ...]
) -> None:
    shop_project(tmp_path / "shop")
    (tmp_path / "shop" / "config.yml").write_text(BAD_SHOPS, encoding="utf-8")
    result = conexoos(*words, "--project", "shop", cwd=tmp_path)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (2, BAD_LINE, "")


def test_config_check_accepts_what_the_app_accepts(tmp_path: Path) -> None:
    shop_project(tmp_path / "shop")
    (tmp_path / "shop" / "config.yml").write_text(BAD_SHOPS.replace("-5", "null"), encoding="utf-8")
    check = conexoos("config", "check", "--project", "shop", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    hello = conexoos("hello", "--project", "shop", cwd=tmp_path)
    assert (hello.returncode, hello.stdout.strip()) == (0, "hello"), hello.stderr


def test_a_section_that_is_not_a_mapping_says_so() -> None:
    """``{"APP": 5}`` was told that APP cannot be declared, and to declare keys under APP."""
    with pytest.raises(ProjectError, match=r"SCHEMA: APP is 5; declare it as a mapping of keys"):
        _check_project_schema({"APP": 5}, "server.config")


def test_a_convert_that_fails_otherwise_than_by_value_error_is_one_line() -> None:
    key = Key("int", 0, "m", convert=lambda value: value / 0, expected="an integer")
    assert check_value(3, key, "APP.N").problems == [
        "APP.N: its check failed (ZeroDivisionError: division by zero); a convert function raises ValueError "
        "for a value it refuses"
    ]
