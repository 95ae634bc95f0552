"""Jobs added through flask-framework's ``Process.add_task`` and ``add_cron`` run once per slot across two
worker processes (Conexoos's once-per-cluster scheduler), and ``add_parallel_task`` runs once, now."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import yaml
from flask import Flask

from tests.conftest import AppFactory

from .helpers import python_process, wait_until, write_files, write_project
from .test_tasks import WINDOW_SECONDS, WORKER, assert_each_slot_once, base_config

JOBS_PROJECT = {
    "Server/__init__.py": "from . import Middleware\n",
    "Server/Middleware.py": """
        class Load(object):
            def __init__(self, server):
                from flask_framework.Server import Process
                Process.add_task("Jobs.counter.tick", id="tick", seconds=1)
                Process.add_cron("Jobs.counter.tock", id="tock", args=("tock",), seconds=1)
    """,
    "Jobs/counter.py": """
        import os

        from flask_framework.Config import Environment
        from flask_framework.Server import Process


        def _record(name):
            slot = Process.get().extensions["conexoos"].scheduler.tasks[name].last_slot
            with open(Environment.FLASK["CONFIG"]["COUNTER_FILE"], "a") as counter:
                counter.write(f"{name} {slot} {os.getpid()}\\n")


        def tick():
            _record("tick")


        def tock(label):
            _record(label)


        def once(path):
            with open(path, "a") as done:
                done.write("once\\n")
    """,
}


def test_add_task_and_add_cron_run_once_per_slot_across_two_workers(tmp_path: Path) -> None:
    counter = tmp_path / "counts.txt"
    project = write_project(tmp_path / "jobs_project", JOBS_PROJECT)
    config = {**base_config(tmp_path, "compatjobs"), "FLASK": {"CONFIG": {"COUNTER_FILE": str(counter)}}}
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    script = write_files(tmp_path, {"worker.py": WORKER}) / "worker.py"
    arguments = (str(project), str(config_path), str(tmp_path))
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    with (
        python_process(script, *arguments, "1", log=logs[0]) as first,
        python_process(script, *arguments, "2", log=logs[1]) as second,
    ):
        ready = wait_until(
            lambda: (
                all((tmp_path / f"ready.{n}").exists() for n in "12")
                or first.poll() is not None
                or second.poll() is not None
            ),
            timeout=60,
        )
        assert ready and first.poll() is None and second.poll() is None, "".join(p.read_text() for p in logs)
        time.sleep(WINDOW_SECONDS)
        (tmp_path / "stop").touch()
        for process in (first, second):
            process.wait(timeout=20)
    assert first.returncode == 0 and second.returncode == 0, "".join(p.read_text() for p in logs)
    lines = [line.split() for line in counter.read_text(encoding="utf-8").splitlines()]
    for name in ("tick", "tock"):
        assert_each_slot_once(Counter(int(slot) for task, slot, _pid in lines if task == name))


def test_add_parallel_task_runs_once_in_the_background(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "jobs_project", JOBS_PROJECT)
    app: Flask = make_app(project, schema=False)
    done = tmp_path / "done.txt"
    with app.app_context():
        from flask_framework.Server import Process  # the layer, as the project sees it

        Process.add_parallel_task("Jobs.counter.once", args=(str(done),))
    assert wait_until(done.exists, timeout=5)
    time.sleep(0.2)
    assert done.read_text(encoding="utf-8") == "once\n"
