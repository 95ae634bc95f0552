"""``conexoos db backup`` and ``db restore`` on SQLite: a restore brings back the backup's rows and only
them, even with a write-ahead log left beside the database (copying the file let SQLite replay that log
onto the copy); a backup is consistent, new and the owner's only; anything else is refused in one line."""

from __future__ import annotations

import socket
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from conexoos.framework.config import load_settings
from conexoos.framework.serving_lock import DatabaseInUse, held_for_restore, hold_while_serving
from conexoos.framework.sqlite_backup import BackupError, SiteSchema, backup, restore
from tests.support.green_server import new_port

from .test_cli import python
from .test_migrations import NOTE_MODEL, NOTE_MODEL_V2, make_project, revisions_of

LEAVE_A_LOG = """
import os, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("PRAGMA wal_autocheckpoint=0")
connection.execute("INSERT INTO note (text) VALUES ('written after the backup')")
connection.execute("UPDATE note SET text = 'changed after the backup' WHERE text = 'first'")
connection.commit()
os._exit(0)  # killed, as a worker may be: the log is left beside the database, not checkpointed
"""


def notes(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [text for (text,) in connection.execute("SELECT text FROM note ORDER BY id")]


def db(project: Path, *args: str, answer: str | None = None) -> subprocess.CompletedProcess[str]:
    return python("-m", "conexoos", "db", *args, "--project", project.name, cwd=project.parent, input=answer)


def migrated_site(tmp_path: Path, models: str) -> tuple[Path, Path]:
    """A project on the SQLite file ``tmp_path``/shop.db whose models are ``models``, migrated to head; it
    and the file."""
    database = tmp_path / "shop.db"
    project = make_project(
        tmp_path / "shop", {"main": {"url": f"sqlite:///{database}", "models": "main"}}, {"main": models}
    )
    for step in (("migrate", "-m", "models"), ("upgrade",)):
        assert db(project, *step).returncode == 0
    return project, database


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """A project on a SQLite file in WAL mode holding the notes 'first' and 'second'; it and the file."""
    project, database = migrated_site(tmp_path, NOTE_MODEL)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executemany("INSERT INTO note (text) VALUES (?)", [("first",), ("second",)])
    return project, database


def test_a_restore_brings_back_the_backup_and_nothing_written_after_it(site: tuple[Path, Path]) -> None:
    project, database = site
    copy = project.parent / "backups" / "shop-1.db"
    copy.parent.mkdir()
    made = db(project, "backup", str(copy))
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"Backed up to {copy} (readable by you only)."
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert notes(copy) == ["first", "second"]

    subprocess.run([sys.executable, "-c", LEAVE_A_LOG, str(database)], check=True)
    assert database.with_name("shop.db-wal").stat().st_size > 0  # the changes live in the log

    asked = db(project, "restore", str(copy), answer="n\n")
    assert asked.returncode == 1 and "What was written since that backup is lost" in asked.stdout
    assert notes(database) == ["changed after the backup", "second", "written after the backup"]
    restored = db(project, "restore", str(copy), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines()[0] == f"Restored {database} from {copy}."
    assert "main: " in restored.stdout and "(head)" in restored.stdout
    assert notes(database) == ["first", "second"]
    wal = database.with_name("shop.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert [path.name for path in copy.parent.iterdir()] == ["shop-1.db"]  # no -wal/-shm: one whole file


def test_a_backup_never_overwrites_and_a_damaged_one_restores_nothing(site: tuple[Path, Path]) -> None:
    project, database = site
    taken = project.parent / "taken.db"
    taken.write_text("keep me")
    refused = db(project, "backup", str(taken))
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        == f"error: {str(taken)!r} exists; give the name of a new file (a backup never overwrites)"
    )
    assert taken.read_text() == "keep me"

    damaged = project.parent / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84 + b"garbage" * 100)
    refused = db(project, "restore", str(damaged), "--yes")
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: {str(damaged)!r} is ")
    assert "Traceback" not in refused.stderr
    assert notes(database) == ["first", "second"]

    copy = project.parent / "copy.db"
    assert db(project, "backup", str(copy)).returncode == 0
    pages = bytearray(copy.read_bytes())
    size = int.from_bytes(pages[16:18], "big")
    note_page = (
        sqlite3.connect(copy).execute("SELECT rootpage FROM sqlite_master WHERE name = 'note'").fetchone()[0]
    )
    start = (note_page - 1) * size
    pages[start + 5 : start + 7] = b"\x00\x10"  # the page's content starts inside its own header
    copy.write_bytes(pages)
    refused = db(project, "restore", str(copy), "--yes")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1, refused.stderr  # one line: quick_check's own are joined
    assert "is damaged (SQLite's quick_check: in database main; " in refused.stderr
    assert notes(database) == ["first", "second"]


def test_only_a_backup_of_this_site_from_a_known_release_is_restored(site: tuple[Path, Path]) -> None:
    """An empty file or another program's database was restored (the site's data gone, every page a 503);
    a backup of a later release was too, with advice (`db upgrade`) that could only fail."""
    project, database = site
    folder = project.parent
    empty = folder / "empty.db"
    empty.write_bytes(b"")
    foreign = folder / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE foo (x)")
    other_site = folder / "other-site.db"  # another project's: only the framework's tables are shared
    with sqlite3.connect(other_site) as connection:
        for table in ("foo (x)", "plugin_state (name)", "mail_outbox (id)"):
            connection.execute(f"CREATE TABLE {table}")
    newer = folder / "newer.db"
    assert db(project, "backup", str(newer)).returncode == 0
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    for wrong, said in (
        (empty, "is no backup of this site: it holds none of its tables (0 table(s) in all)"),
        (foreign, "is no backup of this site: it holds none of its tables (1 table(s) in all)"),
        (other_site, "is no backup of this site: it holds none of its tables (3 table(s) in all)"),
        (newer, "was made by a release this code does not know (revision 9999)"),
        (folder, "is not a file"),
        (Path(""), "give the backup file to restore"),
    ):
        refused = db(project, "restore", str(wrong), "--yes")
        assert refused.returncode == 2, (wrong, refused.stdout, refused.stderr)
        assert said in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert notes(database) == ["first", "second"]


def test_a_restore_sets_the_unrecorded_events_aside_and_waits_for_the_site_to_stop(
    site: tuple[Path, Path],
) -> None:
    """Clicks buffered after the backup were flushed into the restored database, on a link id that the
    next new link got again: it inherited their statistics."""
    project, database = site
    copy = project.parent / "copy.db"
    assert db(project, "backup", str(copy)).returncode == 0
    buffered = project / "instance" / "write-buffer" / "analytics-events"
    buffered.mkdir(parents=True)
    (buffered / "live.jsonl").write_text('{"link_id": 23}\n{"link_id": 23}\n', encoding="utf-8")

    port = new_port()
    config = yaml.safe_load((project / "config.yml").read_text())
    config["SERVER_ENV"]["BIND"]["PORT"] = port
    (project / "config.yml").write_text(yaml.safe_dump(config))
    with socket.socket() as listening:  # the site, serving
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", port))
        listening.listen()
        refused = db(project, "restore", str(copy), "--yes")
    assert refused.returncode == 2
    assert f"something listens on 127.0.0.1:{port}: the site seems to be running" in refused.stderr

    restored = db(project, "restore", str(copy), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "2 events written after the backup, not yet recorded, set aside (set-aside-" in restored.stdout
    assert not buffered.exists()
    [aside] = (project / "instance").glob("write-buffer-set-aside-*")
    assert (aside / "analytics-events" / "live.jsonl").read_text().count("link_id") == 2  # kept, not deleted


def answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(
    "command", [["run", "--no-reload"], ["serve", "--workers", "2"]], ids=["run", "serve"]
)
def test_a_restore_waits_for_a_site_serving_the_database_on_another_port(
    site: tuple[Path, Path], command: list[str]
) -> None:
    """The refusal looked only at the configured address: a site started with --port (or another PORT) was
    not seen, and its database was replaced under it. Under serve, the lock is the re-executed master's
    (gevent workers): the first process's went with the exec."""
    project, database = site
    copy = project.parent / "copy.db"
    assert db(project, "backup", str(copy)).returncode == 0
    port = new_port()
    arguments = [sys.executable, "-m", "conexoos", *command, "--project", project.name, "--port", str(port)]
    running = subprocess.Popen(
        arguments, cwd=project.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while not answers(port):
            assert running.poll() is None and time.monotonic() < deadline, running.stderr
            time.sleep(0.1)
        refused = db(project, "restore", str(copy), "--yes")
        assert refused.returncode == 2
        assert f"a site (`conexoos run` or `serve`) is serving {database}, whatever address" in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        running.terminate()
        running.wait(timeout=30)
    restored = db(project, "restore", str(copy), "--yes")
    assert restored.returncode == 0, restored.stderr


def test_a_site_does_not_start_on_a_database_being_restored(site: tuple[Path, Path]) -> None:
    project, database = site
    settings = load_settings(project / "config.yml", environ={})
    with (
        held_for_restore(settings.default_database),
        pytest.raises(DatabaseInUse, match=f"'main': {database} is being restored"),
    ):
        hold_while_serving(settings)
    serving = subprocess.run(
        [sys.executable, "-c", HOLD_AND_TRY_A_RESTORE, str(project / "config.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert serving.returncode == 0, serving.stderr
    assert serving.stdout.split() == ["refused", "forced"]


HOLD_UNTIL_KILLED = """
import sys, time
from conexoos.framework.config import load_settings
from conexoos.framework.serving_lock import hold_while_serving
hold_while_serving(load_settings(sys.argv[1], environ={}))
print("held", flush=True)
time.sleep(60)
"""


def test_a_restore_through_a_symbolic_link_finds_the_site_serving_the_file(
    site: tuple[Path, Path], tmp_path: Path
) -> None:
    """The lock was made beside the path as written: a configuration naming the database through a link
    restored it under the site serving it."""
    project, database = site
    link = tmp_path / "elsewhere" / "link.db"
    link.parent.mkdir()
    link.symlink_to(database)
    through_link = load_settings(
        None, overrides={"DATABASE": {"main": {"url": f"sqlite:///{link}"}}}, environ={}
    )
    serving = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_KILLED, str(project / "config.yml")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert serving.stdout is not None and serving.stdout.readline().strip() == "held"
        with (
            pytest.raises(DatabaseInUse, match="is serving"),
            held_for_restore(through_link.databases["main"]),
        ):
            pytest.fail("the restore went ahead")
    finally:
        serving.kill()
        serving.wait()


# Sites may serve one database side by side (their locks are shared); a restore is refused beside them.
HOLD_AND_TRY_A_RESTORE = """
import sys
from conexoos.framework.config import load_settings
from conexoos.framework.serving_lock import DatabaseInUse, held_for_restore, hold_while_serving
settings = load_settings(sys.argv[1], environ={})
hold_while_serving(settings)
hold_while_serving(settings)
try:
    with held_for_restore(settings.default_database):
        print("restored")
except DatabaseInUse:
    print("refused")
with held_for_restore(settings.default_database, force=True):
    print("forced")
"""


TWO_TABLES = (
    NOTE_MODEL
    + """

class Tag(db.Model):
    __tablename__ = "tag"
    id = db.Column(db.Integer, primary_key=True)
"""
)


def test_a_backup_that_lacks_a_table_of_its_revision_is_refused(tmp_path: Path) -> None:
    """It was restored, and the site then refused to start on the database it replaced."""
    project, database = migrated_site(tmp_path, TWO_TABLES)
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO note (text) VALUES ('kept')")
    part = tmp_path / "part.db"
    assert db(project, "backup", str(part)).returncode == 0
    with closing(sqlite3.connect(part)) as connection:
        connection.execute("DROP TABLE tag")
        connection.execute("DELETE FROM note")
        connection.commit()
    refused = db(project, "restore", str(part), "--yes")
    assert refused.returncode == 2, refused.stdout
    assert "lacks tables a database at its revision" in refused.stderr and "(tag)" in refused.stderr
    assert notes(database) == ["kept"]


def test_a_backup_that_lacks_a_column_of_its_revision_is_refused(site: tuple[Path, Path]) -> None:
    project, database = site
    part = project.parent / "part.db"
    assert db(project, "backup", str(part)).returncode == 0
    with closing(sqlite3.connect(part)) as connection:
        connection.execute("ALTER TABLE note DROP COLUMN text")
        connection.commit()
    refused = db(project, "restore", str(part), "--yes")
    assert refused.returncode == 2, refused.stdout
    assert "its table note lacks columns a database at its revision" in refused.stderr
    assert "(text)" in refused.stderr
    assert notes(database) == ["first", "second"]


LATER_MODELS = (
    NOTE_MODEL_V2
    + """

class Tag(db.Model):
    __tablename__ = "tag"
    id = db.Column(db.Integer, primary_key=True)
"""
)


def lowered(backup_file: Path, revision: str, *statements: str) -> Path:
    """``backup_file`` recording ``revision`` (after ``statements``), as a hand's edit would leave it."""
    with closing(sqlite3.connect(backup_file)) as connection:
        for statement in statements:
            connection.execute(statement)
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        connection.commit()
    return backup_file


def test_a_backup_recording_an_older_revision_than_its_tables_is_refused(tmp_path: Path) -> None:
    """A backup whose alembic_version was lowered was restored, with advice to run `db upgrade`, which then
    failed (table tag already exists) and left a site that would not start; an honest older backup is
    still restored, and upgraded."""
    project, database = migrated_site(tmp_path, NOTE_MODEL)
    older = tmp_path / "older.db"
    assert db(project, "backup", str(older)).returncode == 0
    (project / "models" / "persistent" / "main.py").write_text(LATER_MODELS)  # a tag table, a pinned column
    for step in (("migrate", "-m", "later"), ("upgrade",)):
        assert db(project, *step).returncode == 0
    first, _ = revisions_of(project)
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO note (text) VALUES ('kept')")
    for name, statements, said in (
        ("tables.db", (), "holds tables a database at its revision"),
        ("columns.db", ("DROP TABLE tag",), "holds columns in its table note a database at its revision"),
    ):
        assert db(project, "backup", str(tmp_path / name)).returncode == 0
        refused = db(project, "restore", str(lowered(tmp_path / name, first, *statements)), "--yes")
        assert refused.returncode == 2, refused.stdout
        assert said in refused.stderr and first in refused.stderr and "nothing restored" in refused.stderr
        assert ("(tag)" if name == "tables.db" else "(pinned)") in refused.stderr
        assert notes(database) == ["kept"]
    restored = db(project, "restore", str(older), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "run `conexoos db upgrade" in restored.stdout
    assert db(project, "upgrade").returncode == 0
    assert notes(database) == []


def test_a_server_database_is_refused_with_the_name_of_its_tools(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        overrides={"DATABASE": {"default": "main", "main": {"url": "postgresql://u:secret@db.example/site"}}},
        environ={},
    )
    with pytest.raises(
        BackupError, match="'main' is postgresql: back it up and restore it with pg_dump and pg_restore"
    ):
        backup(settings.default_database, tmp_path / "copy.db")
    with pytest.raises(BackupError, match="mariadb-dump"):
        restore(
            load_settings(
                None,
                overrides={"DATABASE": {"default": "m", "m": {"url": "mysql+pymysql://u@h/x"}}},
                environ={},
            ).default_database,
            tmp_path / "copy.db",
            SiteSchema(frozenset({"note"}), None),
        )
