"""A PostgreSQL cluster of the test's own (``pg_createcluster`` on a free port), removed afterwards.

Never the shared server on 5432: a fault test stops, freezes and restarts this one. The superuser
``postgres`` is trusted over local TCP; every other role logs in with its password (scram-sha-256), so
that a wrong password can be tried. fsync is off: the cluster is thrown away.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

from sqlalchemy.engine import URL

from tests.framework.helpers import free_port, port_open, wait_until
from tests.support import process_signals

START_TIMEOUT = 30.0
HBA = """\
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
host all postgres ::1/128 trust
host all all ::1/128 scram-sha-256
"""


def installed_version() -> str:
    """The newest PostgreSQL major version installed (e.g. ``15``)."""
    root = Path("/usr/lib/postgresql")
    versions = (
        sorted((path.name for path in root.iterdir() if path.name.isdigit()), key=int)
        if root.is_dir()
        else []
    )
    if not versions or shutil.which("pg_createcluster") is None:
        raise RuntimeError("PostgreSQL's server and postgresql-common are not installed")
    return versions[-1]


class PostgresCluster:
    """create(), start(), stop(), freeze() (SIGSTOP every process), thaw() (SIGCONT), drop()."""

    def __init__(self, host: str = "127.0.0.1", clients: str | None = None) -> None:
        """``host``: the one address it listens on; ``clients``: a network (CIDR) whose hosts may log in
        too (the postgres superuser trusted, other roles with their password), e.g. network namespaces'."""
        self.version = installed_version()
        self.name = f"cx{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.host = host
        self.clients = clients
        self._frozen: list[int] = []
        self.running = False

    def create(self) -> PostgresCluster:
        """Create the cluster (not started) with trust for postgres and passwords for other roles."""
        _run(
            "pg_createcluster", self.version, self.name, "-p", str(self.port), "--start-conf", "manual",
            "-o", "fsync=off", "-o", "synchronous_commit=off", "-o", "full_page_writes=off",
            "--", "--auth-local", "trust", "--auth-host", "trust", "--no-sync",
        )  # fmt: skip
        hba = HBA
        if self.clients:
            hba += f"host all postgres {self.clients} trust\nhost all all {self.clients} scram-sha-256\n"
        folder = Path(f"/etc/postgresql/{self.version}/{self.name}")
        (folder / "pg_hba.conf").write_text(hba, encoding="utf-8")
        with (folder / "postgresql.conf").open("a", encoding="utf-8") as settings:
            settings.write(f"listen_addresses = '{self.host}'\n")  # the last setting in the file wins
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        _run("pg_ctlcluster", self.version, self.name, "start")
        self.running = True
        if not wait_until(lambda: port_open(self.port, self.host), START_TIMEOUT):
            raise RuntimeError(f"PostgreSQL cluster {self.name} did not listen on {self.port}")

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: open connections are closed, in-flight work rolled back)."""
        self.thaw()
        _run("pg_ctlcluster", self.version, self.name, "stop", "-m", "fast")
        self.running = False

    def ensure_running(self) -> None:
        """Start the server unless it runs (after a test that left it stopped)."""
        if not self.running:
            self.start()

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections hang instead of failing."""
        self._frozen = self._processes()
        for pid in self._frozen:
            process_signals.freeze(pid)

    def thaw(self) -> None:
        """SIGCONT what :meth:`freeze` stopped."""
        frozen, self._frozen = self._frozen, []
        for pid in frozen:
            process_signals.thaw(pid)  # a backend that ended in between is left alone

    def drop(self) -> None:
        """Stop the server if it runs and remove the cluster (data and configuration)."""
        self.thaw()
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name], capture_output=True, check=False
        )

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (through psql)."""
        _run("psql", "-h", self.host, "-p", str(self.port), "-U", "postgres", "-d", database, "-c", statement)

    def add_database(self, user: str, password: str, database: str) -> None:
        """A role that logs in with ``password`` and a database it owns."""
        self.sql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
        self.sql(f"CREATE DATABASE {database} OWNER {user}")

    def url(self, user: str = "postgres", password: str | None = None, database: str = "postgres") -> URL:
        """A SQLAlchemy URL (psycopg) to ``database`` on this cluster."""
        return URL.create(
            "postgresql+psycopg", username=user, password=password, host=self.host, port=self.port,
            database=database,
        )  # fmt: skip

    def _processes(self) -> list[int]:
        """The postmaster (from its pid file) and its children."""
        pid_file = Path(f"/var/run/postgresql/{self.version}-{self.name}.pid")
        postmaster = int(pid_file.read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended in between
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry.name))
        return [postmaster, *children]

    def __enter__(self) -> PostgresCluster:
        self.create()
        try:
            self.start()
        except BaseException:
            self.drop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.drop()


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
