"""Write a new project in the seed-001 layout: ``conexoos new NAME``.

The files come from ``scaffold/project``. A ``.tmpl`` suffix is dropped on the way out (it keeps template
Python files from being imported or linted as framework code), ``gitignore.txt`` becomes ``.gitignore``,
and the ``__CONEXOOS_...__`` placeholders are filled in.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from ..errors import ConexoosError

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
TEMPLATE_SUFFIX = ".tmpl"
RENAMED = {"gitignore.txt": ".gitignore"}
PLACEHOLDER = re.compile(r"__CONEXOOS_[A-Z_]+__")
SECRET_FILES = {"config.yml"}


class ScaffoldError(ConexoosError):
    """A project cannot be created as asked (bad name, folder already in use)."""


def create_project(name: str, target: Path) -> list[Path]:
    """Write project ``name`` into the folder ``target``; return the files written, relative to it.

    ``target`` must not exist or be empty. The files are written to a sibling folder first and moved
    into place at the end, so a failure never leaves half a project behind.
    """
    check_name(name)
    target = target.expanduser().absolute()
    check_target(target)
    values = {"__CONEXOOS_NAME__": name}
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.new-{secrets.token_hex(4)}"
    try:
        written = [_write(staging, relative, source, values) for relative, source in template_files()]
        os.replace(staging, target)  # replaces an empty folder atomically on POSIX
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return written


def check_name(name: str) -> None:
    """Accept a letter, then letters, digits, ``_`` or ``-``: the name becomes APP_NAME and a file name."""
    if not NAME_PATTERN.fullmatch(name):
        raise ScaffoldError(
            f"project name {name!r} is not valid: start with a letter, then use letters, digits, _ or - "
            "(at most 64 characters)"
        )


def check_target(target: Path) -> None:
    """Refuse a file, or a folder that already holds something."""
    if target.is_dir():
        if any(target.iterdir()):
            raise ScaffoldError(f"{target} already exists and is not empty; choose another name or --path")
    elif target.exists() or target.is_symlink():
        raise ScaffoldError(f"{target} already exists and is not a folder; choose another name or --path")


def template_files() -> Iterator[tuple[PurePosixPath, Traversable]]:
    """Every template file with its path in the new project."""
    yield from _walk(files(__name__) / "project", PurePosixPath())


def _walk(folder: Traversable, relative: PurePosixPath) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _walk(entry, relative / entry.name)
        else:
            yield relative / _output_name(entry.name), entry


def _output_name(name: str) -> str:
    name = RENAMED.get(name, name)
    return name.removesuffix(TEMPLATE_SUFFIX)


def _write(root: Path, relative: PurePosixPath, source: Traversable, values: dict[str, str]) -> Path:
    text = source.read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    leftover = PLACEHOLDER.search(text)
    if leftover:
        raise ScaffoldError(f"template {relative} uses the unknown placeholder {leftover.group(0)}")
    destination = root.joinpath(*relative.parts)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(text, encoding="utf-8")
    if relative.name in SECRET_FILES:
        destination.chmod(0o600)
    return Path(*relative.parts)
