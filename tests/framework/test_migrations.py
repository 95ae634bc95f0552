"""``conexoos db``: Alembic migrations per named connection, on SQLite and PostgreSQL.

Each test runs the real command in a subprocess against a project written by ``create_project`` plus a
model module, and looks at the database with its own engine.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, inspect

from conexoos.framework.scaffold import create_project
from tests.support.services import fresh_database

from .test_cli import conexoos, free_port, python

NOTE_MODEL = """
from conexoos.framework import db


class Note(db.Model):
    __tablename__ = "note"
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)
"""

ARCHIVE_MODEL = """
from conexoos.framework import db


class Archived(db.Model):
    __bind_key__ = "archive"
    __tablename__ = "archived"
    id = db.Column(db.Integer, primary_key=True)
"""


def make_project(root: Path, connections: dict[str, dict[str, object]], models: dict[str, str]) -> Path:
    """A new project whose DATABASE section is ``connections`` and with a module per entry of ``models``."""
    create_project("shop", root)
    config_path = root / "config.yml"
    config = yaml.safe_load(config_path.read_text())
    config["DATABASE"] = {"default": next(iter(connections)), **connections}
    config_path.write_text(yaml.safe_dump(config))
    for module, source in models.items():
        (root / "models" / "persistent" / f"{module}.py").write_text(source)
    return root


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def db_command(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``conexoos db ARGS --project PROJECT`` as its own process."""
    return conexoos("db", *args, "--project", project.name, cwd=project.parent)


# Runs several commands through the real click group in one fresh interpreter: the models are imported
# once, as in a command, and the test process's own metadata stays clean.
SESSION_DRIVER = """
import json, sys
from click.testing import CliRunner
from conexoos.framework.cli import cli
results = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["conexoos", *args]
    result = CliRunner().invoke(cli, args, prog_name="conexoos")
    unexpected = result.exception if not isinstance(result.exception, SystemExit) else None
    results.append([result.exit_code, result.stdout, result.stderr, repr(unexpected) if unexpected else None])
print(json.dumps(results))
"""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def db_session(project: Path, *commands: list[str]) -> list[Outcome]:
    """Run each ``conexoos db COMMAND --project PROJECT`` in turn inside one subprocess."""
    arguments = [["db", *command, "--project", project.name] for command in commands]
    process = python("-c", SESSION_DRIVER, json.dumps(arguments), cwd=project.parent)
    assert process.returncode == 0, process.stderr
    outcomes = []
    for code, stdout, stderr, unexpected in json.loads(process.stdout.splitlines()[-1]):
        assert unexpected is None, f"{unexpected}\n{stderr}"
        outcomes.append(Outcome(code, stdout, stderr))
    return outcomes


def set_readonly(project: Path, name: str, readonly: bool) -> None:
    config_path = project / "config.yml"
    config = yaml.safe_load(config_path.read_text())
    config["DATABASE"][name]["readonly"] = readonly
    config_path.write_text(yaml.safe_dump(config))


def test_migrate_upgrade_current_downgrade_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})

    migrated = db_command(project, "migrate", "-m", "create notes")
    assert migrated.returncode == 0, migrated.stderr
    [script] = (project / "migrations" / "main" / "versions").glob("*.py")
    assert script.name.endswith("_create_notes.py")
    assert "op.create_table('note'" in script.read_text() and "op.drop_table('note')" in script.read_text()
    assert "note" not in tables(url)  # migrate only writes the script

    upgraded, current, downgraded = db_session(project, ["upgrade"], ["current"], ["downgrade", "--yes"])
    revision = script.name.split("_")[3]
    assert upgraded.code == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"main: {revision} (head)"
    assert "Running upgrade  -> " + revision in upgraded.stderr
    assert current.code == 0 and current.stdout.strip() == f"main: {revision} (head)"
    assert downgraded.code == 0, downgraded.stderr
    assert "Running downgrade " + revision in downgraded.stderr
    assert downgraded.stdout.startswith("main: no migration applied (head is " + revision)
    assert "note" not in tables(url)

    [again] = db_session(project, ["upgrade"])
    assert again.code == 0 and "note" in tables(url)

    # Without --yes, it asks first, saying where the database stands; no is no.
    kept = python(
        "-m", "conexoos", "db", "downgrade", "base", "--project", project.name, cwd=tmp_path, input="n\n"
    )
    assert kept.returncode == 1, kept.stdout + kept.stderr
    assert f"main: {revision} (head)\nRevert it to base? Reverting may drop tables" in kept.stdout
    assert "note" in tables(url)
    asked = python("-m", "conexoos", "db", "downgrade", "--project", project.name, cwd=tmp_path, input="y\n")
    assert asked.returncode == 0, asked.stdout + asked.stderr
    assert "note" not in tables(url)


def test_a_revision_that_fails_on_sqlite_leaves_nothing_of_itself_and_is_not_taken_as_done(
    tmp_path: Path,
) -> None:
    """SQLite ran a revision's CREATE TABLE outside any transaction: a revision failing after it left the
    table, and the next upgrade took the half-made schema for tables made before migrations, recorded the
    revision as done and never ran the rest."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    assert db_command(project, "migrate", "-m", "notes", "--rev-id", "0001").returncode == 0
    [script] = (project / "migrations" / "main" / "versions").glob("*.py")
    source = script.read_text()
    script.write_text(
        source.replace("    # ### end Alembic commands ###", "    op.execute('SELECT * FROM missing')", 1)
    )
    first, second = db_session(project, ["upgrade"], ["upgrade"])
    for failed in (first, second):
        assert failed.code == 1
        assert "error: a migration failed: connection 'main'" in failed.stderr
        assert "a statement failed (no such table: missing)" in failed.stderr
        assert "note: the revision that failed was rolled back" in failed.stderr
    assert "note" not in tables(url) and "alembic_version" not in tables(url)
    script.write_text(source)  # fixed
    [fixed] = db_session(project, ["upgrade"])
    assert fixed.code == 0 and fixed.stdout.strip() == "main: 0001 (head)" and "note" in tables(url)


@pytest.mark.services
def test_migrate_upgrade_current_downgrade_on_postgresql(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with fresh_database("postgresql", tmp_path_factory) as url:
        project = make_project(
            tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL}
        )
        migrated, upgraded, current = db_session(
            project, ["migrate", "-m", "notes"], ["upgrade"], ["current"]
        )
        assert migrated.code == 0, migrated.stderr
        assert "Detected added table 'note'" in migrated.stderr
        [script] = (project / "migrations" / "main" / "versions").glob("*_notes.py")
        revision = script.name.split("_")[3]
        assert upgraded.code == 0 and upgraded.stdout.strip() == f"main: {revision} (head)", upgraded.stderr
        assert current.code == 0 and current.stdout.strip() == f"main: {revision} (head)"
        assert {"note", "alembic_version"} <= tables(url)
        [downgraded] = db_session(project, ["downgrade", "base", "--yes"])
        assert downgraded.code == 0, downgraded.stderr
        assert "note" not in tables(url)
        assert downgraded.stdout.startswith("main: no migration applied")


def test_migrate_writes_nothing_when_the_models_did_not_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    first, upgraded, again = db_session(project, ["migrate"], ["upgrade"], ["migrate", "-m", "nothing"])
    assert first.code == 0 and upgraded.code == 0, first.stderr + upgraded.stderr
    assert again.code == 0, again.stderr
    assert "no migration written" in again.stdout
    assert len(list((project / "migrations" / "main" / "versions").glob("*.py"))) == 1


def test_migrate_refuses_to_run_on_an_outdated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    first, second = db_session(project, ["migrate"], ["migrate", "-m", "again"])
    assert first.code == 0, first.stderr
    assert second.code == 1
    assert second.stderr.strip() == "error: Target database is not up to date."


def two_connection_project(tmp_path: Path, default: str = "main") -> tuple[Path, str, str]:
    """A project whose notes live on the connection ``default`` and its archive on ``archive``: it and the
    two databases' URLs."""
    main_url, archive_url = f"sqlite:///{tmp_path / 'main.db'}", f"sqlite:///{tmp_path / 'archive.db'}"
    connections = {
        default: {"url": main_url, "models": "main"},
        "archive": {"url": archive_url, "models": "archive"},
    }
    project = make_project(tmp_path / "shop", connections, {"main": NOTE_MODEL, "archive": ARCHIVE_MODEL})
    return project, main_url, archive_url


def test_each_connection_has_its_own_history(tmp_path: Path) -> None:
    project, main_url, archive_url = two_connection_project(tmp_path)
    migrated, upgraded = db_session(
        project, ["migrate", "--database", "archive", "-m", "archive"], ["upgrade", "--database", "archive"]
    )
    assert migrated.code == 0 and upgraded.code == 0, migrated.stderr + upgraded.stderr
    assert upgraded.stdout.startswith("archive: ") and upgraded.stdout.strip().endswith("(head)")
    assert len(list((project / "migrations" / "archive" / "versions").glob("*.py"))) == 1
    assert not (project / "migrations" / "main").exists()
    assert "archived" in tables(archive_url) and "note" not in tables(archive_url)
    assert "archived" not in tables(main_url)


SHELF_MODEL = """

class Shelf(db.Model):
    __bind_key__ = "archive"
    __tablename__ = "shelf"
    id = db.Column(db.Integer, primary_key=True)
"""


def test_history_lists_a_connections_revisions_newest_first_marking_the_current_one(tmp_path: Path) -> None:
    """There was no `db history`: `db current` named the revision the database is at, never the others."""
    project, main_url, archive_url = two_connection_project(tmp_path)
    archive = ["--database", "archive"]
    first, upgraded = db_session(
        project, ["migrate", *archive, "--rev-id", "0001", "-m", "archive"], ["upgrade", *archive]
    )
    (project / "models" / "persistent" / "archive.py").write_text(ARCHIVE_MODEL + SHELF_MODEL)
    steps = db_session(
        project,
        ["migrate", *archive, "--rev-id", "0002", "-m", "add shelf"],
        ["history", *archive],
        ["current", *archive],
        ["history"],
        ["history", "--database", "nope"],
    )
    second, history, current, default, unknown = steps
    assert [step.code for step in [first, second, upgraded, history, current, default]] == [0] * 6
    behind = "archive: 0001 (head is 0002; run `conexoos db upgrade --database archive --project shop`)"
    assert history.stdout == f"{behind}\n  0002  add shelf  (head)\n  0001  archive  (current)\n"
    assert current.stdout == f"{behind}\n"  # --database acts on that connection, not the default
    versions = project / "migrations" / "main" / "versions"
    assert default.stdout == f"main: no migration applied (no migration scripts in {versions.resolve()})\n"
    assert "shelf" not in tables(archive_url) and "archived" in tables(archive_url)
    assert unknown.code == 2 and unknown.stderr == (
        "error: --database 'nope': no such connection in DATABASE; configured: archive, main\n"
    )
    [upgraded] = db_session(project, ["upgrade", *archive])
    [at_head] = db_session(project, ["history", *archive])
    assert at_head.stdout == "archive: 0002 (head)\n  0002  add shelf  (head, current)\n  0001  archive\n"


def test_readonly_connection_refuses_schema_changes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    [migrated] = db_session(project, ["migrate"])
    assert migrated.code == 0, migrated.stderr
    set_readonly(project, "main", True)
    upgrade, downgrade, migrate, current, history = db_session(
        project, ["upgrade"], ["downgrade"], ["migrate"], ["current"], ["history"]
    )
    for refused, action in ((upgrade, "upgrade"), (downgrade, "downgrade"), (migrate, "migrate")):
        assert refused.code == 2
        assert refused.stderr.strip() == (
            f"error: database connection 'main' is readonly (DATABASE.main."
            f"readonly: true); {action} refused. Set readonly: false to manage "
            "its schema here."
        )
        assert refused.stdout == ""
    assert "note" not in tables(url)
    assert current.code == 0 and current.stdout.startswith("main: no migration applied")  # reading is allowed
    assert history.code == 0 and history.stdout.startswith("main: no migration applied")
    assert len(list((project / "migrations" / "main" / "versions").glob("*.py"))) == 1


@pytest.mark.skipif(
    importlib.util.find_spec("conexoos_contact") is None, reason="sample plugin not installed"
)
def test_a_disabled_plugins_tables_are_not_scripted_as_tables_to_drop(tmp_path: Path) -> None:
    """Only an enabled plugin's models were loaded: once disabled, its tables (and rows, which the README
    says disabling keeps) were scripted as DROP TABLE by the project's next migration."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    assert db_command(project, "migrate", "-m", "notes").returncode == 0
    assert db_command(project, "upgrade").returncode == 0
    plugin = ("--project", project.name)
    assert conexoos("plugins", "enable", "contact", *plugin, cwd=tmp_path).returncode == 0
    assert db_command(project, "upgrade").returncode == 0 and "contact_message" in tables(url)
    assert conexoos("plugins", "disable", "contact", *plugin, cwd=tmp_path).returncode == 0
    again = db_command(project, "migrate", "-m", "nothing new")
    assert again.returncode == 0, again.stderr
    scripts = list((project / "migrations" / "main" / "versions").glob("*.py"))
    assert len(scripts) == 1, [script.read_text() for script in scripts]  # nothing changed: no new script
    assert db_command(project, "upgrade").returncode == 0 and "contact_message" in tables(url)


def test_unknown_connection_and_missing_scripts_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    unknown, missing = db_session(project, ["current", "--database", "nope"], ["upgrade"])
    assert unknown.code == 2
    assert (
        unknown.stderr.strip() == "error: --database 'nope': no such connection in DATABASE; configured: main"
    )
    assert missing.code == 2 and "has no migration scripts" in missing.stderr
    _, no_such = db_session(project, ["migrate"], ["upgrade", "nosuch"])  # a typo: usage, not a failure
    [first] = revisions_of(project)
    assert no_such.code == 2 and no_such.stderr.strip() == (
        f"error: main has no revision 'nosuch': its migrations run from {first}; give one of them, head or "
        "base"
    )


PREPARE = """
import sys
from conexoos.framework import create_app
from conexoos.framework.migrations import prepare_databases
app = create_app(sys.argv[1], sys.argv[1] + "/config.yml")
print(prepare_databases(app))
"""


def test_serving_upgrades_an_empty_database_that_has_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    assert db_session(project, ["migrate"])[0].code == 0
    prepared = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.strip() == "[]"
    assert {"note", "alembic_version"} <= tables(url)
    [script] = (project / "migrations" / "main" / "versions").glob("*.py")
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        recorded = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    assert recorded == [script.name.split("_")[3]]


def test_serving_refuses_a_database_at_head_that_lacks_a_table_of_the_models(tmp_path: Path) -> None:
    """A model (or init_mail's outbox) added without a migration: it started, then every request using the
    table failed, as a 503 "database unavailable" on SQLite."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    assert [outcome.code for outcome in db_session(project, ["migrate"], ["upgrade"])] == [0, 0]
    tag = (
        "class Tag(db.Model):\n    __tablename__ = 'tag'\n    id = db.Column(db.Integer, primary_key=True)\n"
    )
    added = f"{NOTE_MODEL}\n\n{tag}"
    (project / "models" / "persistent" / "main.py").write_text(added)
    refused = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert refused.returncode != 0
    assert "database connection 'main' is at head but lacks tables of the models (tag)" in refused.stderr
    assert (
        "`conexoos db migrate -m MESSAGE`, then run `conexoos db upgrade --database main`" in refused.stderr
    )


def test_serving_refuses_a_database_at_head_that_lacks_a_column_of_the_models(tmp_path: Path) -> None:
    """A column added to a model without its migration: it started, and every query of the table failed;
    a column the database has beyond the models (a plugin's, another app's) is fine."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    assert [outcome.code for outcome in db_session(project, ["migrate"], ["upgrade"])] == [0, 0]
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("ALTER TABLE note ADD COLUMN extra TEXT")
    assert python("-c", PREPARE, str(project), cwd=tmp_path).returncode == 0
    (project / "models" / "persistent" / "main.py").write_text(
        NOTE_MODEL + "    pinned = db.Column(db.Boolean)\n"
    )
    refused = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert refused.returncode != 0
    assert (
        "database connection 'main' is at head but lacks columns of the models (note.pinned), which its "
        "migrations do not make: write their migration with `conexoos db migrate -m MESSAGE`, then run "
        "`conexoos db upgrade --database main`"
    ) in refused.stderr
    upgraded = db_session(project, ["upgrade"])[0]
    assert upgraded.code != 0
    assert "lacks columns of the models (note.pinned)" in upgraded.stderr


def test_the_missing_tables_of_another_connection_are_named_with_its_own_commands(tmp_path: Path) -> None:
    """The message said `db migrate -m MESSAGE`, which migrates the default connection: it did nothing."""
    project, main_url, archive_url = two_connection_project(tmp_path)
    steps = db_session(project, ["migrate", "--database", "archive"], ["upgrade", "--database", "archive"])
    assert [step.code for step in steps] == [0, 0]
    shelf = "class Shelf(db.Model):\n    __bind_key__ = 'archive'\n    __tablename__ = 'shelf'\n"
    shelf += "    id = db.Column(db.Integer, primary_key=True)\n"
    (project / "models" / "persistent" / "archive.py").write_text(f"{ARCHIVE_MODEL}\n\n{shelf}")
    refused = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert refused.returncode != 0
    advice = "write their migration with `conexoos db migrate --database archive -m MESSAGE`, then run "
    said = "'archive' is at head but lacks tables of the models (shelf), which its migrations do not make"
    assert f"{said}: {advice}" in refused.stderr
    steps = db_session(
        project, ["migrate", "--database", "archive", "-m", "shelf"], ["upgrade", "--database", "archive"]
    )
    assert [step.code for step in steps] == [0, 0]
    started = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert started.returncode == 0, started.stderr


MIDDLEWARE_WITH_MAIL = """
from conexoos.framework.mail import init_mail


class Load:
    def __init__(self, server):
        init_mail(server)
"""


def test_serving_refuses_a_database_at_head_without_the_outbox_once_the_project_sends_mail(
    tmp_path: Path,
) -> None:
    """``init_mail`` added to a project whose database is at head: queueing mail failed on every request."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    assert [outcome.code for outcome in db_session(project, ["migrate"], ["upgrade"])] == [0, 0]
    (project / "server" / "middleware.py").write_text(MIDDLEWARE_WITH_MAIL)
    refused = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert refused.returncode != 0
    assert "lacks tables of the models (mail_outbox)" in refused.stderr
    assert [outcome.code for outcome in db_session(project, ["migrate", "-m", "outbox"], ["upgrade"])] == [
        0,
        0,
    ]
    started = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    assert "mail_outbox" in tables(url)


# Another project's model, loaded in the same process (as the test suite loads many): SQLAlchemy's registry
# is the process's, but its table is not this project's to ask of this database.
PREPARE_BESIDE_ANOTHER_MODEL = """
import sys
from conexoos.framework import create_app, db
from conexoos.framework.migrations import prepare_databases


class Elsewhere(db.Model):
    __tablename__ = "elsewhere"
    id = db.Column(db.Integer, primary_key=True)


app = create_app(sys.argv[1], sys.argv[1] + "/config.yml")
print(prepare_databases(app))
"""


def test_a_model_of_another_project_in_the_process_is_not_asked_of_this_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    assert [outcome.code for outcome in db_session(project, ["migrate"], ["upgrade"])] == [0, 0]
    started = python("-c", PREPARE_BESIDE_ANOTHER_MODEL, str(project), cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    assert "elsewhere" not in tables(url)


TYPES_MODULE = """
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


class Trimmed(TypeDecorator):
    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.strip()
"""

TYPED_NOTE_MODEL = """
from conexoos.framework import db

from .types import Trimmed


class Note(db.Model):
    __tablename__ = "note"
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(Trimmed(length=200), nullable=False)
"""


def test_a_script_with_a_custom_column_type_runs_as_written(tmp_path: Path) -> None:
    """Alembic writes ``models.persistent.types.Trimmed(length=200)``: the script must import that module."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    project = make_project(
        tmp_path / "shop",
        {"main": {"url": url, "models": "main"}},
        {"types": TYPES_MODULE, "main": TYPED_NOTE_MODEL},
    )
    migrated, upgraded = db_session(project, ["migrate", "-m", "typed notes"], ["upgrade"])
    assert migrated.code == 0, migrated.stderr
    [script] = (project / "migrations" / "main" / "versions").glob("*.py")
    source = script.read_text()
    assert "models.persistent.types.Trimmed(length=200)" in source
    assert "\nimport models.persistent.types\n" in source
    assert upgraded.code == 0, upgraded.stderr
    assert upgraded.stdout.strip().endswith("(head)")
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        columns = {row[1]: row[2] for row in connection.execute("PRAGMA table_info(note)")}
    assert columns == {"id": "INTEGER", "text": "VARCHAR(200)"}


def test_the_default_connection_uses_migrations_default_whatever_its_name(tmp_path: Path) -> None:
    """A project ships its default connection's history in migrations/default; operators name it freely."""
    project, main_url, archive_url = two_connection_project(tmp_path, default="primary")
    shipped = project / "migrations" / "default" / "versions"
    shipped.mkdir(parents=True)
    migrated, archived, upgraded = db_session(
        project,
        ["migrate", "-m", "notes", "--rev-id", "0001"],
        ["migrate", "-d", "archive", "-m", "archive"],
        ["upgrade"],
    )
    assert migrated.code == 0 and archived.code == 0, migrated.stderr + archived.stderr
    assert [path.name.endswith("_0001_notes.py") for path in shipped.glob("*.py")] == [True]
    assert len(list((project / "migrations" / "archive" / "versions").glob("*.py"))) == 1
    assert not (project / "migrations" / "primary").exists()
    assert upgraded.code == 0 and upgraded.stdout.strip() == "primary: 0001 (head)", upgraded.stderr
    assert "note" in tables(main_url)
    (project / "models" / "persistent" / "main.py").write_text(NOTE_MODEL_V2)
    [again] = db_session(project, ["migrate", "-m", "again", "--rev-id", "0001"])  # an id it has
    assert again.code != 0 and "revision 0001 already exists" in again.stdout + again.stderr
    assert [path.name for path in shipped.glob("*.py") if "again" in path.name] == []  # nothing written
    [still] = db_session(project, ["current"])
    assert still.code == 0 and still.stdout.strip() == "primary: 0001 (head)"

    # A folder of the connection's own name wins over migrations/default.
    (project / "migrations" / "primary" / "versions").mkdir(parents=True)
    [current] = db_session(project, ["current"])
    assert current.stdout.startswith("primary: ") and "no migration scripts in" in current.stdout
    assert str(Path("migrations") / "primary" / "versions") in current.stdout


NOTE_MODEL_V2 = NOTE_MODEL + "    pinned = db.Column(db.Boolean, nullable=True)\n"


def revisions_of(project: Path) -> list[str]:
    scripts = sorted(
        (project / "migrations" / "main" / "versions").glob("*.py"), key=lambda p: p.stat().st_mtime
    )
    return [script.name.split("_")[3] for script in scripts]


def recorded_versions(path: Path) -> list[str] | None:
    with sqlite3.connect(path) as connection:
        found = connection.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchall()
        if not found:
            return None
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]


def columns_of(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


def note_project_on_a_file(tmp_path: Path) -> tuple[Path, Path]:
    """A project "shop" with the note model on the SQLite file shop.db; the project and that file."""
    path = tmp_path / "shop.db"
    project = make_project(
        tmp_path / "shop", {"main": {"url": f"sqlite:///{path}", "models": "main"}}, {"main": NOTE_MODEL}
    )
    return project, path


def behind_project(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A project whose database is at its first revision while the scripts have a second one."""
    project, path = note_project_on_a_file(tmp_path)
    first, upgraded = db_session(project, ["migrate", "-m", "notes"], ["upgrade"])
    assert first.code == 0 and upgraded.code == 0, first.stderr + upgraded.stderr
    (project / "models" / "persistent" / "main.py").write_text(NOTE_MODEL_V2)
    [second] = db_session(project, ["migrate", "-m", "pinned"])
    assert second.code == 0, second.stderr
    return project, path, revisions_of(project)


@pytest.mark.parametrize(
    "command", [["run", "--no-reload"], ["run", "--reload"], ["serve", "--workers", "1"]]
)
def test_run_and_serve_refuse_a_database_behind_its_migrations(tmp_path: Path, command: list[str]) -> None:
    project, path, (first, second) = behind_project(tmp_path)
    refused = conexoos(*command, "--project", "shop", cwd=tmp_path)
    assert refused.returncode == 2
    assert "Running on" not in refused.stdout + refused.stderr  # refused before serving, reloader or not
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: database connection 'main' is at revision {first} but this version needs {second}: "
        "run `conexoos db upgrade --database main --project shop` first (back up the database before)"
    )
    assert recorded_versions(path) == [first]
    assert "pinned" not in columns_of(path, "note")  # never upgraded behind the operator's back


def test_the_refusals_command_names_the_sites_configuration_and_can_be_copied(tmp_path: Path) -> None:
    """A site started with `serve --config FILE` was told to run `conexoos db upgrade --database main`:
    run as said, it found no site (the embedded default configuration), or another one."""
    project, path, (first, second) = behind_project(tmp_path)
    (tmp_path / "site.yml").write_text((project / "config.yml").read_text())
    refused = conexoos("serve", "--workers", "1", "--project", "shop", "--config", "site.yml", cwd=tmp_path)
    assert refused.returncode == 2
    said = refused.stderr.strip().splitlines()[-1]
    assert "run `conexoos db upgrade --database main --project shop --config site.yml` first" in said, said
    [suggested] = re.findall(r"`conexoos ([^`]*)`", said)
    upgraded = conexoos(*shlex.split(suggested), cwd=tmp_path)  # copied as it is
    assert upgraded.returncode == 0, upgraded.stderr
    assert recorded_versions(path) == [second]


def test_a_migrate_that_fails_leaves_no_folder_it_made(tmp_path: Path) -> None:
    """Run on a database another history recorded (a site's, taken for a project with --project .),
    `db migrate` failed and left an empty migrations/main/versions behind."""
    project, path = note_project_on_a_file(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0033')")
    failed = db_command(project, "migrate", "-m", "notes")
    assert failed.returncode != 0
    assert "Can't locate revision identified by '0033'" in failed.stderr
    assert not (project / "migrations").exists()


def test_tables_made_before_the_migrations_are_stamped_not_recreated(tmp_path: Path) -> None:
    project, path, (first, second) = behind_project(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO note (text) VALUES ('kept')")
        connection.execute("DROP TABLE alembic_version")  # as made by create_all, before any migration

    refused = conexoos("run", "--project", "shop", "--no-reload", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert (  # what was done is a note, not an error
        f"note: database connection 'main': its tables, made before migrations were recorded, are those of "
        f"revision {first}, the first migration; recorded as revision {first}"
    ) in refused.stderr
    assert "error: database connection 'main' is at revision" in refused.stderr
    assert "run `conexoos db upgrade --database main --project shop` first" in refused.stderr
    assert recorded_versions(path) == [first]

    [upgraded] = db_session(project, ["upgrade"])
    assert upgraded.code == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"main: {second} (head)"
    assert "pinned" in columns_of(path, "note")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT text FROM note").fetchall() == [("kept",)]


def test_db_upgrade_stamps_then_upgrades_tables_made_before_the_migrations(tmp_path: Path) -> None:
    project, path, (first, second) = behind_project(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO note (text) VALUES ('kept')")
        connection.execute("DROP TABLE alembic_version")
    [upgraded] = db_session(project, ["upgrade"])
    assert upgraded.code == 0, upgraded.stderr
    assert f"recorded as revision {first}" in upgraded.stderr
    assert f"Running upgrade {first} -> {second}" in upgraded.stderr
    assert recorded_versions(path) == [second]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT text, pinned FROM note").fetchall() == [("kept", None)]


def test_tables_that_match_no_revision_are_refused_with_a_message(tmp_path: Path) -> None:
    project, path, (first, _second) = behind_project(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE alembic_version")
        connection.execute("DROP TABLE note")
        connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    expected = (
        f"error: database connection 'main' has tables but no migration recorded, and they are neither those "
        f"of revision {first} (the first migration) nor those of the models (column note.text missing; "
    )
    refused = conexoos("run", "--project", "shop", "--no-reload", cwd=tmp_path)
    [upgrade] = db_session(project, ["upgrade"])
    for outcome, stderr in ((refused.returncode, refused.stderr), (upgrade.code, upgrade.stderr)):
        assert outcome == 2
        assert stderr.strip().splitlines()[-1].startswith(expected), stderr
        assert stderr.strip().endswith("then run `conexoos db stamp REVISION --database main --project shop`")
    assert recorded_versions(path) is None
    assert columns_of(path, "note") == ["id", "body"]


def test_a_database_at_a_revision_this_version_does_not_have_is_refused(tmp_path: Path) -> None:
    project, path, _revisions = behind_project(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfacef00d'")
    refused = conexoos("run", "--project", "shop", "--no-reload", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: database connection 'main' is at revision f00dfacef00d, which this version's migrations do "
        "not have (was it upgraded by a newer release?); serve it with that release, or downgrade it with "
        "that release first"
    )
    assert recorded_versions(path) == ["f00dfacef00d"]
    current, upgrade, downgrade = db_session(project, ["current"], ["upgrade"], ["downgrade", "--yes"])
    assert current.stdout.strip().startswith(
        "main: f00dfacef00d (not a revision of this version's migrations, whose head is"
    ), current.stdout  # it said "run conexoos db upgrade", which Alembic then refused in its own words
    for refused_too in (upgrade, downgrade):
        assert refused_too.code == 2 and "upgraded by a newer release?" in refused_too.stderr, refused_too
    assert recorded_versions(path) == ["f00dfacef00d"]
    [stamped] = db_session(project, ["stamp", "head"])  # the repair: it said "no revision 'head'"
    assert stamped.code == 0, stamped.stderr
    assert recorded_versions(path) == [revisions_of(project)[-1]]


def test_tables_made_from_the_current_models_are_stamped_head(tmp_path: Path) -> None:
    project, path, (_first, second) = behind_project(tmp_path)
    [upgraded] = db_session(project, ["upgrade"])
    assert upgraded.code == 0, upgraded.stderr
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE alembic_version")  # e.g. made by create_all from today's models
    prepared = python("-c", PREPARE, str(project), cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.strip() == str(
        [
            "database connection 'main': its tables, made before migrations were recorded, are those of "
            f"the models; recorded as revision {second}"
        ]
    )
    assert recorded_versions(path) == [second]


NOTE_MODEL_WITH_DONE = NOTE_MODEL + "    done = db.Column(db.Boolean, nullable=False, server_default='0')\n"
RUN_MAKES_THE_TABLES = """
import sys
from conexoos.framework import create_app
from conexoos.framework.migrations import prepare_databases
prepare_databases(create_app(sys.argv[1], sys.argv[1] + "/config.yml"))
"""


def test_a_first_migration_of_tables_run_made_starts_with_their_baseline(tmp_path: Path) -> None:
    """``run`` made the tables; the model then changed. The first ``db migrate`` used to write only the
    change, a first revision that could build no database ("no such table"), and ``db upgrade`` refused."""
    database = tmp_path / "shop.db"
    url = f"sqlite:///{database}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    made = python("-c", RUN_MAKES_THE_TABLES, str(project), cwd=tmp_path)  # as `conexoos run` starts
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO note (text) VALUES ('kept')")
    (project / "models" / "persistent" / "main.py").write_text(NOTE_MODEL_WITH_DONE)

    migrated = db_command(project, "migrate", "-m", "add done")
    assert migrated.returncode == 0, migrated.stderr
    assert "had tables but no migration history" in migrated.stdout
    scripts = sorted(
        (project / "migrations" / "main" / "versions").glob("*.py"), key=lambda p: p.stat().st_mtime
    )
    assert [
        path.name.endswith(suffix)
        for path, suffix in zip(scripts, ("_made_before_migrations.py", "_add_done.py"), strict=True)
    ] == [True, True]
    assert "op.create_table('note'" in scripts[0].read_text()
    assert "batch_op.add_column(sa.Column('done'" in scripts[1].read_text()
    assert "create_table" not in scripts[1].read_text()  # nothing but the change

    upgraded = db_command(project, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT text, done FROM note").fetchall() == [("kept", 0)]

    fresh = tmp_path / "fresh.db"  # the history builds a new database too
    config = yaml.safe_load((project / "config.yml").read_text())
    config["DATABASE"]["main"]["url"] = f"sqlite:///{fresh}"
    (project / "config.yml").write_text(yaml.safe_dump(config))
    built = db_command(project, "upgrade")
    assert built.returncode == 0, built.stderr
    assert {"note"} <= tables(f"sqlite:///{fresh}")


def legacy_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose database, before any run or migration, holds a table none of its models names."""
    project, path = note_project_on_a_file(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE legacy_customers (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO legacy_customers (name) VALUES ('precious')")
    return project, path


def legacy_rows(path: Path) -> list[tuple[str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT name FROM legacy_customers").fetchall()


@pytest.mark.parametrize("command", [["run", "--no-reload"], ["serve", "--workers", "1"]])
def test_run_and_serve_refuse_a_database_that_holds_other_tables_and_no_history(
    tmp_path: Path, command: list[str]
) -> None:
    """Only a database without tables is created by the migrations: one holding an unrelated table was
    taken for empty, and its migrations (which dropped that table, rows and all) applied without a word."""
    project, path = legacy_project(tmp_path)
    [migrated] = db_session(project, ["migrate", "-m", "init"])
    assert migrated.code == 0, migrated.stderr
    [script] = (project / "migrations" / "main" / "versions").glob("*.py")
    drop = "op.drop_table('legacy_customers')"
    if drop not in script.read_text():  # as autogenerate wrote it before it left such tables alone
        header = "def upgrade() -> None:\n"
        script.write_text(script.read_text().replace(header, f"{header}    {drop}\n"))
    refused = conexoos(*command, "--project", "shop", "--port", str(free_port()), cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "Running on" not in refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: database connection 'main' has no migration recorded but is not empty (it holds "
        "legacy_customers, no table of its models), so its migrations are not applied on their own: run "
        "`conexoos db upgrade --database main --project shop` first (back up the database before, and "
        "review what the migrations do to its tables), or `conexoos db stamp REVISION --database main "
        "--project shop` when its schema already is that of a revision"
    )
    assert recorded_versions(path) is None
    assert legacy_rows(path) == [("precious",)]
    assert "note" not in tables(f"sqlite:///{path}")


def test_migrate_leaves_a_table_no_model_names_alone_and_says_how_to_drop_it(tmp_path: Path) -> None:
    """Autogenerate scripted a DROP TABLE for every table of the database that no model of the connection
    names (another app's sharing it): the next `db upgrade` dropped it with its rows."""
    project, path = legacy_project(tmp_path)
    [migrated] = db_session(project, ["migrate", "-m", "init"])
    assert migrated.code == 0, migrated.stderr
    [script] = (project / "migrations" / "main" / "versions").glob("*.py")
    upgrade = script.read_text().split("def downgrade")[0]
    assert "op.create_table('note'" in upgrade
    assert "drop_table" not in upgrade
    written = Path("shop") / "migrations" / "main" / "versions" / script.name
    assert migrated.stdout.splitlines()[-2] == (
        "Table legacy_customers is in database 'main' but no model names it: left alone, not dropped. To "
        f'drop it with its rows, write op.drop_table("legacy_customers") in the upgrade() of {written} '
        "yourself."
    )
    [upgraded] = db_session(project, ["upgrade"])
    assert upgraded.code == 0, upgraded.stderr
    assert legacy_rows(path) == [("precious",)]
    assert "note" in tables(f"sqlite:///{path}")


def test_a_baseline_alone_is_said_and_keeps_the_message(tmp_path: Path) -> None:
    """``run`` made the tables and the models did not change since: `db migrate -m MSG` wrote only the
    baseline, said "Wrote ...; review it" as for any revision, and MSG was nowhere."""
    database = tmp_path / "shop.db"
    url = f"sqlite:///{database}"
    project = make_project(tmp_path / "shop", {"main": {"url": url, "models": "main"}}, {"main": NOTE_MODEL})
    made = python("-c", RUN_MAKES_THE_TABLES, str(project), cwd=tmp_path)  # as `conexoos run` starts
    assert made.returncode == 0, made.stderr
    migrated = db_command(project, "migrate", "-m", "initial notes")
    assert migrated.returncode == 0, migrated.stderr
    [script] = (project / "migrations" / "main" / "versions").glob("*.py")
    assert script.name.endswith("_tables_made_before_migrations.py")
    written = Path("shop") / "migrations" / "main" / "versions" / script.name
    assert migrated.stdout.strip().splitlines()[-1] == (
        f"Database 'main' had tables but no migration history: wrote {written}, a baseline that creates "
        "its tables as they are; the models have not changed since, so nothing else was written, and "
        '"initial notes" is kept in its docstring. Review it, then run `conexoos db upgrade`, which '
        "records the database at it."
    )
    docstring = script.read_text().split("Revision ID:")[0]
    assert docstring.startswith('"""tables made before migrations\n\nWritten by `conexoos db migrate -m')
    assert '"initial notes"' in docstring
    [upgraded] = db_session(project, ["upgrade"])
    assert upgraded.code == 0, upgraded.stderr
    assert recorded_versions(database) == [script.name.split("_")[3]]
