"""Two app hosts (network namespaces) behind nginx, sharing a PostgreSQL cluster and a Redis of the test's
own that listen on the root namespace's side of the hosts' links. Built once for the module: starting
it all takes about half a minute."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.conftest import missing
from tests.framework.helpers import free_port
from tests.ops.test_nginx import running_nginx_site
from tests.support.postgres_cluster import PostgresCluster
from tests.support.redis_server import RedisServer

from .hosts import AppHost, run_on, write_host_config
from .network import HostNetwork

HOST_NAMES = ("a", "b")
DB_USER, DB_PASSWORD, DB_NAME = "conexoos_app", "multihost-password", "conexoos_multihost"
REDIS_PASSWORD = "multihost-redis-password"
APP_KEY = "multihost-test-key-" + "m" * 40
NGINX_TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "multihost" / "nginx.conf"


@dataclass
class Cluster:
    """What the tests reach: the balancer's URL, the hosts, the shared servers."""

    balancer_url: str
    hosts: dict[str, AppHost]
    postgres: PostgresCluster
    redis: RedisServer
    network: HostNetwork
    nginx: Path
    environment: dict[str, str]

    def database_url(self) -> str:
        """A SQLAlchemy URL of the shared database, as the app's role."""
        return self.postgres.url(DB_USER, DB_PASSWORD, DB_NAME).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The whole deployment, removed afterwards (on failure too)."""
    require_root_and_tools()
    folder = tmp_path_factory.mktemp("multihost")
    with contextlib.ExitStack() as stack:
        network = stack.enter_context(HostNetwork(list(HOST_NAMES)))
        postgres = stack.enter_context(shared_postgres(network))
        redis = stack.enter_context(RedisServer(host=network.gateway, password=REDIS_PASSWORD))
        balancer_port = free_port()
        environment = {
            "APP_KEY": APP_KEY,
            "PUBLIC_URL": f"http://127.0.0.1:{balancer_port}",
            "BALANCER": network.gateway,  # nginx reaches the hosts from the bridge's address
            "DB_HOST": network.gateway,
            "DB_PORT": str(postgres.port),
            "DB_USER": DB_USER,
            "DB_PASSWORD": DB_PASSWORD,
            "DB_NAME": DB_NAME,
            "REDIS_HOST": network.gateway,
            "REDIS_PORT": str(redis.port),
            "REDIS_PASSWORD": REDIS_PASSWORD,
        }
        config = write_host_config(folder / "config")
        first = network.hosts[HOST_NAMES[0]]
        # Migrations once, from one host, before any host serves (two hosts migrating at once would race).
        upgraded = run_on(first, environment, "db", "upgrade", "--config", str(config))
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        hosts: dict[str, AppHost] = {}
        for name in HOST_NAMES:
            host_config = write_host_config(folder / f"host-{name}")
            hosts[name] = AppHost(network.hosts[name], host_config, environment, port=free_port())
            stack.callback(hosts[name].stop)
        for host in hosts.values():
            host.wait_ready()
        site = render_balancer(
            balancer_port, [host.host.address + f":{host.port}" for host in hosts.values()]
        )
        nginx = stack.enter_context(running_nginx_site(folder / "nginx", balancer_port, site))
        yield Cluster(
            f"http://127.0.0.1:{balancer_port}", hosts, postgres, redis, network, nginx, environment
        )


def require_root_and_tools() -> None:
    """Skip (fail under CONEXOOS_REQUIRE_SERVICES=1) without root, iproute2, nginx or the servers."""
    if os.geteuid() != 0:
        missing("network namespaces need root")
    for program in ("ip", "nginx", "redis-server", "pg_createcluster"):
        if shutil.which(program) is None and not os.path.exists(f"/usr/sbin/{program}"):
            missing(f"{program} is not installed (scripts/test installs it)")


@contextlib.contextmanager
def shared_postgres(network: HostNetwork) -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster on the bridge's address, open to the hosts' network, with the app's database."""
    try:
        postgres = PostgresCluster(host=network.gateway, clients=network.network)
    except RuntimeError as error:
        missing(str(error))
    with postgres:
        postgres.add_database(DB_USER, DB_PASSWORD, DB_NAME)
        yield postgres


def render_balancer(listen: int, upstreams: list[str]) -> str:
    """deploy/multihost/nginx.conf with its placeholders filled in, as an operator would."""
    first, second = upstreams
    rendered = (
        NGINX_TEMPLATE.read_text(encoding="utf-8")
        .replace("@LISTEN@", f"127.0.0.1:{listen}")
        .replace("@SERVER_NAME@", "links.example.org")
        .replace("@APP_HOST_A@", first)
        .replace("@APP_HOST_B@", second)
    )
    assert "@" not in rendered.replace("$", ""), "a placeholder was left"
    return rendered
