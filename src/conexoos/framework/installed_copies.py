"""Whether a package's folder is an installed copy (what pip put in site-packages, or in a ``--target``
folder) or a source checkout (an editable install's folder, or one on the path that no installer wrote).

A file written into an installed copy is not the package's: the next ``pip install -U`` replaces the
folder without it, and another copy of the package never had it. ``conexoos db migrate --plugin`` asks
before it writes a plugin's next revision.
"""

from __future__ import annotations

from importlib.metadata import Distribution
from pathlib import Path

INSTALL_FOLDERS = frozenset({"site-packages", "dist-packages"})
"""Where pip (``site-packages``) and Debian's packages (``dist-packages``, which keep no RECORD) install."""


def installed_copy(folder: Path, distribution: Distribution | None) -> Path | None:
    """The folder ``folder`` was installed into: a ``site-packages`` or ``dist-packages`` folder above
    it, or the one ``distribution``'s RECORD lists its files in (as ``pip install --target`` writes).
    None for a source checkout: an editable install's RECORD lists no file of its package's folder."""
    resolved = folder.resolve()
    under = next((parent for parent in resolved.parents if parent.name in INSTALL_FOLDERS), None)
    if under is not None:
        return under
    if distribution is not None and _records_a_file_in(distribution, resolved):
        return Path(str(distribution.locate_file(""))).resolve()
    return None


def _records_a_file_in(distribution: Distribution, folder: Path) -> bool:
    """Whether ``distribution``'s RECORD lists a file inside ``folder``."""
    return any(
        folder in Path(str(distribution.locate_file(file))).resolve().parents
        for file in distribution.files or ()
    )
