"""``conexoos db migrate --plugin NAME`` writes a plugin's next revision only into a source checkout of it
(an editable install, or a folder no installer wrote): into a copy pip installed it is refused, as the
product's own history is, since the next ``pip install -U`` of the plugin would drop the revision."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conexoos.framework.plugins import installed_plugins
from tests.support.plugins import install_fake_plugin, plugin_modules_forgotten

from .test_plugins import conexoos
from .test_plugins import config_file as config_file  # the fixture

NAME, MODULE = "notes", "notes_plugin"
FILES = {
    "models/__init__.py": (
        "from sqlalchemy import Integer, String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n\n"
        "from conexoos.framework import db\n\n\n"
        "class PluginNote(db.Model):\n"
        "    __tablename__ = 'plugin_note'\n"
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
        "    text: Mapped[str] = mapped_column(String(200))\n"
    ),
    "migrations/versions/.keep": "",
}
CONTACT = "contact"
"""The sample plugin, which ``scripts/test`` installs (disabled)."""
METADATA = f"Metadata-Version: 2.1\nName: {MODULE}\nVersion: 1.0.0\nSummary: Notes\n"
ENTRY_POINTS = f"[conexoos.plugins]\n{NAME} = {MODULE}\n"


def migrate(config_file: Path, *folders: Path) -> tuple[int, str]:
    """Enable the plugin in a new database and run ``db migrate --plugin`` with ``folders`` on the path."""
    with pytest.MonkeyPatch.context() as patch:
        for folder in reversed(folders):
            patch.syspath_prepend(str(folder))
        with plugin_modules_forgotten(MODULE):
            assert conexoos(config_file, "db", "upgrade")[0] == 0
            assert conexoos(config_file, "plugins", "enable", NAME)[0] == 0
            return conexoos(config_file, "db", "migrate", "--plugin", NAME, "-m", "notes")


def written(package: Path) -> list[str]:
    """The revisions in the plugin's history folder."""
    return sorted(path.name for path in (package / "migrations" / "versions").glob("*.py"))


def build_wheel(folder: Path) -> Path:
    """A wheel of the plugin, as its authors would publish it (with its RECORD)."""
    files = {f"{MODULE}/{relative}": text for relative, text in {"__init__.py": "", **FILES}.items()}
    info = f"{MODULE}-1.0.0.dist-info"
    files |= {
        f"{info}/METADATA": METADATA,
        f"{info}/entry_points.txt": ENTRY_POINTS,
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{MODULE}-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def assert_refused(code: int, output: str, installed_in: Path) -> None:
    assert code == 2, output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output
    assert output.startswith(f"error: db migrate --plugin {NAME}: plugin {NAME!r} ({MODULE} 1.0.0) ")
    assert f"is an installed copy, in {installed_in.resolve()};" in output
    assert "pip install -U" in output and "Ask the plugin's authors for a release" in output
    assert "`pip install -e <its folder>`" in output


def test_a_plugin_pip_installed_into_a_target_folder_is_refused_and_nothing_is_written(
    tmp_path: Path, config_file: Path
) -> None:
    """``pip install --target`` writes a RECORD naming the package's files: that is an installed copy."""
    target = tmp_path / "plugins"
    wheel = build_wheel(tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--target",
            str(target),
            wheel,
        ],
        check=True,
        capture_output=True,
    )
    code, output = migrate(config_file, target)
    assert_refused(code, output, target)
    assert written(target / MODULE) == []
    assert sorted(path.name for path in (target / MODULE / "migrations").iterdir()) == ["versions"]


def test_a_plugin_in_a_dist_packages_folder_is_refused(tmp_path: Path, config_file: Path) -> None:
    """Debian's packages keep no RECORD: a folder named site-packages or dist-packages is installed."""
    site = tmp_path / "usr" / "lib" / "python3" / "dist-packages"
    install_fake_plugin(site, NAME, MODULE, FILES, summary="Notes")
    (site / f"{MODULE}-1.2.3.dist-info" / "METADATA").write_text(METADATA)
    code, output = migrate(config_file, site)
    assert_refused(code, output, site)
    assert written(site / MODULE) == []


def test_a_plugin_installed_editable_from_its_checkout_still_migrates(
    tmp_path: Path, config_file: Path
) -> None:
    """``pip install -e``: the distribution is in site-packages (its RECORD lists no file of the package),
    the package is the checkout."""
    site, checkout = tmp_path / "venv" / "site-packages", tmp_path / "notes-checkout"
    install_fake_plugin(checkout, NAME, MODULE, FILES)
    site.mkdir(parents=True)
    info = (checkout / f"{MODULE}-1.2.3.dist-info").rename(site / f"{MODULE}-1.0.0.dist-info")
    (info / "METADATA").write_text(METADATA)
    (info / "direct_url.json").write_text(
        json.dumps({"url": checkout.as_uri(), "dir_info": {"editable": True}}), encoding="utf-8"
    )
    code, output = migrate(config_file, site, checkout)
    assert code == 0, output
    assert len(written(checkout / MODULE)) == 1 and "_notes.py" in written(checkout / MODULE)[0]


def test_a_plugin_from_a_folder_no_installer_wrote_still_migrates(tmp_path: Path, config_file: Path) -> None:
    """A plugin's folder put on the path as it is (its metadata beside it, no RECORD) is its source."""
    folder = tmp_path / "work"
    install_fake_plugin(folder, NAME, MODULE, FILES)
    code, output = migrate(config_file, folder)
    assert code == 0, output
    assert len(written(folder / MODULE)) == 1


@pytest.mark.skipif(CONTACT not in installed_plugins(), reason="the sample plugin is not installed")
def test_the_sample_plugin_installed_editable_as_scripts_test_does_is_a_source_checkout() -> None:
    """``scripts/test`` installs it with ``pip install -e``: its RECORD lists only the editable hook."""
    assert installed_plugins()[CONTACT].installed_in() is None
