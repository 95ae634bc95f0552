"""Compiled templates kept on disk, so that a new worker does not compile from source the templates its
first requests render (Jinja's ``FileSystemBytecodeCache`` in ``<INSTANCE_PATH>/template-cache``).

Jinja checks each kept template against a digest of its source before using it, so an edited template
(a new release, a project's override) is compiled again, never served stale. Writes go to a temporary
file renamed into place: workers starting together never read a half-written one. The folder is the
instance folder's, private to the site like its key file: what is in it is run as code.

A cache that cannot be written (a read-only or full disk) costs only the compiling it would have saved:
the template is rendered anyway, and the log says why once a minute; one that cannot be a folder (a file
in its place) is not used, and the log says so at start.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from jinja2 import FileSystemBytecodeCache
from jinja2.bccache import Bucket

from .logs import EveryFewSeconds

FOLDER = "template-cache"
log = logging.getLogger("conexoos.templates")


class TemplateBytecodeCache(FileSystemBytecodeCache):
    """Jinja's file cache whose failure to write is logged, not raised into the page being rendered."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(str(folder))
        self._warning = EveryFewSeconds(60.0)

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as error:
            if self._warning.due():
                log.warning("compiled template %s not kept in %s: %s", bucket.key, self.directory, error)


def install_template_cache(app: Flask, instance_path: Path) -> None:
    """Keep ``app``'s compiled templates in ``instance_path/template-cache`` (before its Jinja environment
    is made: Flask reads ``jinja_options`` then). When that cannot be a folder (a file or a broken link
    is in the way, the disk refuses), the app starts without the cache and the log says why."""
    folder = instance_path / FOLDER
    try:
        cache = TemplateBytecodeCache(folder)
    except OSError as error:
        log.warning("compiled templates are not kept: %s cannot be a folder (%s)", folder, error)
        return
    app.jinja_options = {**app.jinja_options, "bytecode_cache": cache}
