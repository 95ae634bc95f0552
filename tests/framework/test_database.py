"""Named databases: the same model tests on SQLite, PostgreSQL and MariaDB, several kinds in one app,
readonly connections, credentials with special characters, and surviving a server restart."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, jsonify
from sqlalchemy import String, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import ConfigError, ReadOnlyDatabaseError, db, load_settings
from conexoos.framework.database import create_schema, reading
from conexoos.framework.project import locate_project
from tests.conftest import AppFactory
from tests.support.services import DATABASE_KINDS, fresh_database, server_url

from .helpers import wait_until, write_files, write_project

SERVER_KINDS = [kind for kind in DATABASE_KINDS if kind != "sqlite"]


class FwNote(db.Model):  # type: ignore[name-defined,misc]
    """A model on the default connection, whatever kind of server that is."""

    __tablename__ = "fw_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True)
    stars: Mapped[int] = mapped_column(default=0)


class FwArchived(db.Model):  # type: ignore[name-defined,misc]
    """A model on the readonly ``archive`` connection; its table exists beforehand."""

    __bind_key__ = "archive"
    __tablename__ = "fw_archived"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100))


class FwArchiveExtra(db.Model):  # type: ignore[name-defined,misc]
    """Another ``archive`` model whose table must never be created there."""

    __bind_key__ = "archive"
    __tablename__ = "fw_archive_extra"
    id: Mapped[int] = mapped_column(primary_key=True)


@pytest.fixture(
    params=[
        pytest.param(kind, marks=pytest.mark.services if kind != "sqlite" else ()) for kind in DATABASE_KINDS
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh empty database of each kind in turn."""
    with fresh_database(request.param, tmp_path_factory) as url:
        yield url


@pytest.fixture(params=[pytest.param(kind, marks=pytest.mark.services) for kind in SERVER_KINDS])
def server_database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh empty PostgreSQL or MariaDB database."""
    with fresh_database(request.param) as url:
        yield url


def tables_of(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def add_note_routes(app: Flask) -> None:
    def create(title: str) -> Response:
        db.session.add(FwNote(title=title))
        db.session.flush()  # the INSERT reaches the server inside the request's transaction
        if title.startswith("boom"):
            raise RuntimeError("failure after the write")
        db.session.commit()
        return jsonify(created=title)

    def titles() -> Response:
        return jsonify(sorted(db.session.scalars(select(FwNote.title))))

    app.add_url_rule("/notes/<title>", "create", create, methods=["POST"])
    app.add_url_rule("/notes", "titles", titles)


def test_model_crud_through_db_session(database_url: str, make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(bare_project, database_url=database_url)
    assert app.extensions["conexoos"].settings.default_database.url.render_as_string(False) == database_url
    with app.app_context():
        db.session.add_all([FwNote(title="first", stars=1), FwNote(title="second", stars=2)])
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(FwNote)) == 2

        note = db.session.scalar(select(FwNote).where(FwNote.title == "first"))
        assert note is not None
        note.stars = 5
        db.session.commit()
        db.session.expire_all()
        assert db.session.scalar(select(FwNote.stars).where(FwNote.title == "first")) == 5

        db.session.delete(note)
        db.session.commit()
        assert list(db.session.scalars(select(FwNote.title))) == ["second"]

        db.session.add(FwNote(title="second"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(FwNote)) == 1
    assert "fw_notes" in tables_of(database_url)


def test_reading_sees_the_sessions_own_changes_and_otherwise_stays_out_of_the_session(
    database_url: str, make_app: AppFactory, bare_project: Path
) -> None:
    app = make_app(bare_project, database_url=database_url)
    count = select(func.count()).select_from(FwNote.__table__)
    with app.app_context():
        db.session.add(FwNote(title="committed"))
        db.session.commit()
        with reading() as connection:
            assert connection.scalar(count) == 1
        assert not db.session().in_transaction()  # a connection of its own, back in the pool
        db.session.add(FwNote(title="pending"))  # not flushed yet
        with reading() as connection:
            assert connection.scalar(count) == 2  # flushed, and read in the session's transaction
        db.session.rollback()
        with reading() as connection:
            assert connection.scalar(count) == 1
            if connection.dialect.name == "postgresql":  # autocommit: each statement its own transaction
                stamps = [connection.scalar(text("SELECT transaction_timestamp()")) for _ in range(2)]
                assert stamps[0] != stamps[1]


def test_a_failing_request_rolls_back_its_writes(
    database_url: str, make_app: AppFactory, bare_project: Path
) -> None:
    app = make_app(
        bare_project, database_url=database_url, overrides={"FLASK": {"CONFIG": {"TESTING": False}}}
    )
    add_note_routes(app)
    client = app.test_client()

    assert client.post("/notes/kept").status_code == 200
    assert client.post("/notes/boom").status_code == 500
    assert client.post("/notes/kept").status_code == 500  # unique violation, then the session is cleaned up
    assert client.post("/notes/after").status_code == 200
    assert client.get("/notes").get_json() == ["after", "kept"]


TWO_DATABASES_PROJECT = {
    "models/persistent/core.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from conexoos.framework import db


        class Article(db.Model):
            __tablename__ = "fw_two_articles"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(String(100))
    """,
    "models/persistent/stats.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from conexoos.framework import db


        class Visit(db.Model):
            __bind_key__ = "stats"
            __tablename__ = "fw_two_visits"
            id: Mapped[int] = mapped_column(primary_key=True)
            path: Mapped[str] = mapped_column(String(200))
    """,
    "server/web.py": """
        from flask import jsonify
        from sqlalchemy import func, select

        from conexoos.framework import db
        from models.persistent.core import Article
        from models.persistent.stats import Visit


        def publish(title):
            db.session.add(Article(title=title))
            db.session.add(Visit(path="/" + title))
            db.session.commit()
            return jsonify(articles=db.session.scalar(select(func.count()).select_from(Article)),
                           visits=db.session.scalar(select(func.count()).select_from(Visit)))


        class Route:
            def __init__(self, app):
                app.add_url_rule("/publish/<title>", "publish", publish, methods=["POST"])
    """,
}


def test_two_databases_of_different_kinds_in_one_app(
    tmp_path: Path, make_app: AppFactory, server_database_url: str
) -> None:
    project = write_project(tmp_path / "two", TWO_DATABASES_PROJECT)
    sqlite_url = f"sqlite:///{tmp_path / 'main.db'}"
    app = make_app(
        project,
        {
            "DATABASE": {
                "main": {"models": "core"},
                "stats": {"url": server_database_url, "models": "stats"},
            }
        },
        database_url=sqlite_url,
    )

    client = app.test_client()
    assert client.post("/publish/hello").get_json() == {"articles": 1, "visits": 1}
    assert client.post("/publish/again").get_json() == {"articles": 2, "visits": 2}

    sqlite_tables, server_tables = tables_of(sqlite_url), tables_of(server_database_url)
    assert "fw_two_articles" in sqlite_tables and "fw_two_visits" not in sqlite_tables
    assert "fw_two_visits" in server_tables and "fw_two_articles" not in server_tables
    engine = create_engine(server_database_url)
    with engine.connect() as connection:
        paths = connection.execute(text("SELECT path FROM fw_two_visits ORDER BY id")).scalars().all()
    engine.dispose()
    assert paths == ["/hello", "/again"]


def test_a_model_without_its_bind_key_is_a_config_error(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(
        tmp_path / "unbound",
        {
            "Models/Persistent/Reports.py": """
        from sqlalchemy.orm import Mapped, mapped_column

        from conexoos.framework import db


        class Report(db.Model):
            __tablename__ = "fw_unbound_reports"
            id: Mapped[int] = mapped_column(primary_key=True)
    """
        },
    )
    with pytest.raises(ConfigError) as caught:
        make_app(
            project, {"DATABASE": {"reports": {"url": f"sqlite:///{tmp_path / 'r.db'}", "models": "Reports"}}}
        )
    assert caught.value.problems == [
        "DATABASE.reports.models: model Report in Models.Persistent.Reports has __bind_key__ = None; "
        "models on "
        "this connection need __bind_key__ = 'reports'"
    ]


def test_a_models_module_that_does_not_exist_is_a_config_error(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "nomodels", {"models/persistent/core.py": ""})
    with pytest.raises(ConfigError) as caught:
        make_app(project, {"DATABASE": {"main": {"models": "shop"}}})
    assert caught.value.problems == ["DATABASE.main.models: no module models.persistent.shop in the project"]


ITEMS_MODEL = """
    from sqlalchemy import String
    from sqlalchemy.orm import Mapped, mapped_column

    from conexoos.framework import db


    class Item(db.Model):
        __tablename__ = "fw_items"
        id: Mapped[int] = mapped_column(primary_key=True)
        {column}: Mapped[str] = mapped_column(String(50))
"""


def test_models_of_a_previous_project_do_not_reach_the_next(tmp_path: Path, make_app: AppFactory) -> None:
    first = write_project(
        tmp_path / "first",
        {
            "models/persistent/items.py": ITEMS_MODEL.format(column="name"),
            "models/persistent/extra.py": ITEMS_MODEL.replace("Item", "Extra")
            .replace("fw_items", "fw_first_only")
            .format(column="note"),
            "server/web.py": """
                import models.persistent.extra


                class Route:
                    def __init__(self, app):
                        pass
            """,
        },
    )
    second = write_project(
        tmp_path / "second", {"models/persistent/items.py": ITEMS_MODEL.format(column="label")}
    )
    first_url, second_url = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"

    make_app(first, {"DATABASE": {"main": {"models": "items"}}}, database_url=first_url)
    assert tables_of(first_url) >= {"fw_items", "fw_first_only"}
    make_app(second, {"DATABASE": {"main": {"models": "items"}}}, database_url=second_url)

    engine = create_engine(second_url)
    columns = {column["name"] for column in inspect(engine).get_columns("fw_items")}
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert columns == {"id", "label"}
    assert "fw_first_only" not in tables


@pytest.fixture(
    params=[
        pytest.param(kind, marks=pytest.mark.services if kind != "sqlite" else ()) for kind in DATABASE_KINDS
    ]
)
def archive_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of each kind holding a filled ``fw_archived`` table, made without the framework."""
    with fresh_database(request.param, tmp_path_factory) as url:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE fw_archived (id INTEGER PRIMARY KEY, label VARCHAR(100))"))
            connection.execute(text("INSERT INTO fw_archived (id, label) VALUES (1, 'old'), (2, 'older')"))
        engine.dispose()
        yield url


def test_readonly_connection_refuses_writes_and_gets_no_schema(
    archive_url: str, make_app: AppFactory, bare_project: Path
) -> None:
    app = make_app(bare_project, overrides={"DATABASE": {"archive": {"url": archive_url, "readonly": True}}})
    assert "fw_archive_extra" not in tables_of(archive_url)

    with app.app_context():
        assert list(db.session.scalars(select(FwArchived.label).order_by(FwArchived.id))) == ["old", "older"]

        db.session.add(FwArchived(id=3, label="new"))
        with pytest.raises(ReadOnlyDatabaseError) as caught:
            db.session.commit()
        assert str(caught.value) == (
            "database connection 'archive' is readonly (DATABASE.archive.readonly: true); INSERT refused"
        )
        db.session.rollback()

        row = db.session.get(FwArchived, 1)
        assert row is not None
        row.label = "changed"
        with pytest.raises(ReadOnlyDatabaseError, match="UPDATE refused"):
            db.session.commit()
        db.session.rollback()

        engine = db.engines["archive"]
        with pytest.raises(ReadOnlyDatabaseError, match="DELETE refused"):
            db.session.execute(text("  delete FROM fw_archived"), bind_arguments={"bind": engine})
        db.session.rollback()
        with pytest.raises(ReadOnlyDatabaseError, match="CREATE refused"):
            FwArchiveExtra.__table__.create(bind=engine)
        # A write the keyword check cannot recognise is refused by the server's read-only session.
        with pytest.raises(DBAPIError):
            db.session.execute(
                text("/* sneaky */ INSERT INTO fw_archived (id, label) VALUES (9, 'sneaky')"),
                bind_arguments={"bind": engine},
            )
            db.session.commit()
        db.session.rollback()

        # The default connection still takes writes.
        db.session.add(FwNote(title="still writable"))
        db.session.commit()

    create_schema(app, app.extensions["conexoos"].settings)
    assert "fw_archive_extra" not in tables_of(archive_url)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FwArchived)) == 2


def test_readonly_sqlite_file_is_never_created(
    tmp_path: Path, make_app: AppFactory, bare_project: Path
) -> None:
    archive = tmp_path / "archive.db"
    with sqlite3.connect(archive) as connection:
        connection.execute("CREATE TABLE fw_archived (id INTEGER PRIMARY KEY, label VARCHAR(100))")
    app = make_app(
        bare_project,
        overrides={"DATABASE": {"archive": {"driver": "sqlite", "database": str(archive), "readonly": True}}},
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FwArchived)) == 0
    assert tables_of(f"sqlite:///{archive}") == {"fw_archived"}


def test_credentials_with_special_characters_are_escaped(tmp_path: Path) -> None:
    password = "p@ss:w/rd%#?& é"
    path = (
        write_files(
            tmp_path,
            {
                "config.yml": f"""
        DATABASE:
          main:
            driver: postgresql
            user: "shop@admin"
            password: "{password}"
            address: db.example.org
            port: 5433
            database: "shop db"
            params:
              sslmode: require
    """
            },
        )
        / "config.yml"
    )
    url = load_settings(path, environ={}).databases["main"].url

    rendered = url.render_as_string(hide_password=False)
    # The characters that would end the user or password part are escaped.
    assert rendered == (
        "postgresql+psycopg://shop%40admin:p%40ss%3Aw%2Frd%25%23%3F%26 %C3%A9@db.example.org:5433/"
        "shop db?sslmode=require"
    )
    parsed = make_url(rendered)
    assert (parsed.username, parsed.password, parsed.host, parsed.port, parsed.database) == (
        "shop@admin",
        password,
        "db.example.org",
        5433,
        "shop db",
    )
    assert password not in str(url) and password not in repr(url)


def end_server_sessions(url: str) -> None:
    """End every server session on the database of ``url`` as a restart does (``pg_terminate_backend``),
    and wait until they are gone: the app's pooled connections are dead but still in its pool."""
    admin = create_engine(server_url("postgresql"), isolation_level="AUTOCOMMIT")
    others = "FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
    name = {"name": make_url(url).database}
    with admin.connect() as connection:
        terminated = connection.execute(text(f"SELECT pg_terminate_backend(pid) {others}"), name).scalars()
        assert list(terminated) and all(terminated)  # the app's pooled connection was really killed
        assert wait_until(lambda: not connection.execute(text(f"SELECT pid {others}"), name).all(), 10)
    admin.dispose()


@pytest.mark.services
def test_postgresql_restart_is_survived(make_app: AppFactory, bare_project: Path) -> None:
    """A connection the server ended while it sat in the pool is replaced before a request uses it, on
    the session's path and on :func:`reading`'s (the public page's): the restart is invisible."""
    with fresh_database("postgresql") as url:
        app = make_app(bare_project, database_url=url, overrides={"FLASK": {"CONFIG": {"TESTING": False}}})
        add_note_routes(app)
        client = app.test_client()
        assert client.post("/notes/before").status_code == 200

        end_server_sessions(url)
        response = client.get("/notes")
        assert (response.status_code, response.get_json()) == (200, ["before"])
        assert client.post("/notes/after").status_code == 200

        end_server_sessions(url)
        with app.test_request_context("/"), reading() as connection:
            assert connection.scalar(select(func.count()).select_from(FwNote.__table__)) == 2
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def test_a_previous_projects_model_collected_before_the_next_project_loads_leaves_no_table(
    tmp_path: Path, make_app: AppFactory
) -> None:
    # The registry holds model classes weakly: once another project is located, the previous project's
    # modules are dropped, and a garbage collection may take its model class before it is unmapped.
    first = write_project(
        tmp_path / "first", {"models/persistent/items.py": ITEMS_MODEL.format(column="name")}
    )
    second = write_project(
        tmp_path / "second", {"models/persistent/items.py": ITEMS_MODEL.format(column="label")}
    )
    make_app(
        first, {"DATABASE": {"main": {"models": "items"}}}, database_url=f"sqlite:///{tmp_path / 'a.db'}"
    )
    locate_project(second)  # drops the first project's modules, as create_app does
    gc.collect()
    app = make_app(
        second, {"DATABASE": {"main": {"models": "items"}}}, database_url=f"sqlite:///{tmp_path / 'b.db'}"
    )
    with app.app_context():
        assert {column.name for column in db.metadata.tables["fw_items"].columns} == {"id", "label"}
