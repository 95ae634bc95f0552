"""Two app hosts behind nginx, as deploy/multihost describes them, on this machine: each host a network
namespace that reaches the shared PostgreSQL and Redis through its own link (see conftest.py).

The tests run in this order on one deployment: a session crosses hosts, a click crosses hosts to a live
dashboard socket, each scheduled task's slot runs on one host, and last one host is killed under load.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import create_engine, func, select

from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.app.models.persistent.event import CLICK
from tests.faults.harness import BROWSER, Visitor

from .conftest import Cluster
from .hosts import AppHost, run_on

pytestmark = [pytest.mark.services, pytest.mark.timeout(400)]

DELIVERY_TIMEOUT = 20.0
TASK_WINDOW = 75.0
"""Seconds the tasks' records are watched: five slots of the 15-second roll-up."""
CLICK_PAUSE = 0.02
LOAD_BEFORE_KILL, LOAD_AFTER_KILL = 4.0, 10.0
COUNT_TIMEOUT = 90.0
"""After the load, acknowledged clicks may still be on their way (a buffer flushed by a task)."""
SLOT = re.compile(r" DEBUG conexoos\.tasks: scheduled task (\S+) runs slot (\d+)")
TASK_LINE = re.compile(r"^(\S+)  every (\S+)s  last success: (.+?)  last failure: ")


@pytest.fixture(scope="module")
def owner(cluster: Cluster) -> Visitor:
    """An account signed up (and logged in) on host A, with a link."""
    visitor = Visitor(cluster.hosts["a"].url)
    visitor.sign_up("alice")
    return visitor


@pytest.fixture(scope="module")
def link_id(owner: Visitor) -> int:
    """The owner's link, added through host A's API."""
    return owner.add_link("https://example.org/multihost")


def cookie_header(visitor: Visitor) -> str:
    """The Cookie header a browser holding ``visitor``'s cookies would send to any host."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in visitor.http.cookies)


def test_a_session_made_on_host_a_is_valid_on_host_b(cluster: Cluster, owner: Visitor) -> None:
    on_b = requests.get(
        cluster.hosts["b"].url + "/dashboard",
        headers={"Cookie": cookie_header(owner), "User-Agent": BROWSER},
        allow_redirects=False,
        timeout=10,
    )
    assert on_b.status_code == 200, (on_b.status_code, on_b.headers.get("Location"))
    assert "alice" in on_b.text
    anonymous = requests.get(cluster.hosts["b"].url + "/dashboard", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302  # the session, not host B, let the owner in


def test_a_click_on_host_b_reaches_a_dashboard_socket_held_on_host_a(
    cluster: Cluster, owner: Visitor, link_id: int
) -> None:
    cookie = cookie_header(owner)
    on_a, events_on_a = dashboard_socket(cluster.hosts["a"].url, cookie, ["websocket"], cluster.balancer_url)
    # Through the balancer with long-polling only: every request of the session must reach one host.
    via_nginx, events_via_nginx = dashboard_socket(cluster.balancer_url, cookie, ["polling"])
    try:
        click = requests.get(
            f"{cluster.hosts['b'].url}/go/{link_id}",
            headers={"User-Agent": BROWSER},
            allow_redirects=False,
            timeout=10,
        )
        assert click.status_code == 302
        assert wait_for_click(events_on_a, link_id), f"host A's socket got no click in {DELIVERY_TIMEOUT} s"
        assert wait_for_click(events_via_nginx, link_id), "the polling socket behind nginx got no click"
    finally:
        on_a.disconnect()
        via_nginx.disconnect()


def dashboard_socket(
    url: str, cookie: str, transports: list[str], origin: str | None = None
) -> tuple[socketio.Client, queue.Queue[Any]]:
    """A Socket.IO connection as the logged-in dashboard opens it; the queue receives its stats events.

    ``origin``: the WebSocket's Origin header. The dashboard's page comes from PUBLIC_URL (the balancer),
    so a browser says that even when its socket reaches a host directly (websocket-client would say the
    host's own address, which the app refuses).
    """
    received: queue.Queue[Any] = queue.Queue()
    options = {"origin": origin} if origin else {}
    client = socketio.Client(reconnection=False, websocket_extra_options=options)
    client.on("stats:event", received.put)
    client.connect(url, headers={"Cookie": cookie}, transports=transports, wait_timeout=20)
    return client, received


def wait_for_click(events: queue.Queue[Any], link_id: int) -> bool:
    """Whether a click event for ``link_id`` arrives within DELIVERY_TIMEOUT."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            payload = events.get(timeout=remaining)
        except queue.Empty:
            return False
        if payload.get("kind") == "click" and payload.get("link_id") == link_id:
            return True
    return False


def test_each_slot_of_every_task_runs_on_one_host_only(cluster: Cluster) -> None:
    registered = registered_tasks(cluster)
    assert "analytics-rollup" in registered
    time.sleep(TASK_WINDOW)  # both hosts' schedulers compete for every slot meanwhile
    runs = {name: slots_run(host) for name, host in cluster.hosts.items()}
    for task, interval in registered.items():
        on_a, on_b = runs["a"].get(task, set()), runs["b"].get(task, set())
        assert not on_a & on_b, f"{task}: slots {sorted(on_a & on_b)} ran on both hosts"
        if interval * 2 <= TASK_WINDOW:
            assert on_a | on_b, f"{task} (every {interval:g} s) never ran on either host"
    # Which host wins is a race (whose scheduler looks first after the slot begins); with claims that were
    # not shared, both hosts would run every slot and the check above would fail.
    # The records every host reads (Redis) show each task's last success, whichever host ran it.
    for task, success in task_records(cluster).items():
        if registered[task] * 2 <= TASK_WINDOW:
            assert success != "never", f"{task} has no success recorded"


def registered_tasks(cluster: Cluster) -> dict[str, float]:
    """Every task the product registers (from `conexoos tasks status` on host A) and its interval; a
    task on a cron schedule counts as never due within the window."""
    return {task: interval for task, (interval, _) in _task_lines(cluster).items()}


def task_records(cluster: Cluster) -> dict[str, str]:
    """Each task's last success as `conexoos tasks status` reads it from the shared records."""
    return {task: success for task, (_, success) in _task_lines(cluster).items()}


def _task_lines(cluster: Cluster) -> dict[str, tuple[float, str]]:
    host = cluster.hosts["a"]
    config = host.log_path.parent / "config.yml"
    result = run_on(host.host, cluster.environment, "tasks", "status", "--config", str(config))
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 1: a task lags (checked elsewhere)
    lines: dict[str, tuple[float, str]] = {}
    for line in result.stdout.splitlines()[1:]:
        match = TASK_LINE.match(line)
        name = line.split("  ", 1)[0]
        lines[name] = (float(match.group(2)), match.group(3)) if match else (float("inf"), "n/a")
    return lines


def slots_run(host: AppHost) -> dict[str, set[int]]:
    """The slots each task ran in on ``host``, from its scheduler's DEBUG lines."""
    runs: dict[str, set[int]] = defaultdict(set)
    for task, slot in SLOT.findall(host.output()):
        runs[task].add(int(slot))
    return runs


@dataclass
class ClickLoad:
    """One visitor clicking through the balancer as fast as it is answered, counting every 302."""

    url: str
    acknowledged: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        browser = requests.Session()
        browser.headers["User-Agent"] = BROWSER
        while not self.stop.is_set():
            try:
                status = browser.get(self.url, allow_redirects=False, timeout=15).status_code
            except requests.RequestException as error:
                self.answers[type(error).__name__] += 1
                continue
            self.answers[str(status)] += 1
            if status == 302:
                self.acknowledged += 1
            time.sleep(CLICK_PAUSE)


def test_killing_a_host_under_load_loses_no_acknowledged_click(cluster: Cluster, owner: Visitor) -> None:
    link_id = owner.add_link("https://example.org/under-load")  # a link of its own: no click before this
    load = ClickLoad(f"{cluster.balancer_url}/go/{link_id}")
    clicker = threading.Thread(target=load.run, name="click-load")
    clicker.start()
    try:
        time.sleep(LOAD_BEFORE_KILL)
        served_by_a = cluster.hosts["a"].output().count(f"/go/{link_id}")
        cluster.hosts["a"].kill()
        at_kill = sum(load.answers.values())
        time.sleep(LOAD_AFTER_KILL)
    finally:
        load.stop.set()
        clicker.join(30)
    assert served_by_a > 0, "host A served none of the load before it was killed"
    assert set(load.answers) == {"302"}, f"not every request succeeded: {dict(load.answers)}"
    assert sum(load.answers.values()) - at_kill > 0, "no request was answered after the kill"
    expected = load.acknowledged
    deadline = time.monotonic() + COUNT_TIMEOUT
    while (stored := stored_clicks(cluster, link_id)) < expected and time.monotonic() < deadline:
        time.sleep(1)
    assert stored >= expected, f"{expected - stored} acknowledged clicks of {load.acknowledged} are lost"


def stored_clicks(cluster: Cluster, link_id: int) -> int:
    """The clicks on ``link_id`` in the shared database."""
    engine = create_engine(cluster.database_url())
    try:
        with engine.connect() as connection:
            table = AnalyticsEvent.__table__
            statement = (
                select(func.count())
                .select_from(table)
                .where(table.c.kind == CLICK, table.c.link_id == link_id)
            )
            return int(connection.scalar(statement) or 0)
    finally:
        engine.dispose()
