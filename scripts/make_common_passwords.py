"""Make ``src/conexoos/app/data/common_passwords.txt.gz``: the 10,000 most common passwords.

Source: ``django/contrib/auth/common-passwords.txt.gz`` inside Django's wheel on PyPI (BSD-3-Clause; the
list is Royce Williams' 2017 cleaned list, most common first). The first 10,000 lines are kept, as they
are (lowercase, one a line), and gzipped without a timestamp so that the output is reproducible.

    python scripts/make_common_passwords.py            # pip downloads the pinned Django wheel
    python scripts/make_common_passwords.py WHEEL.whl  # or from a wheel already at hand
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DJANGO = "django==5.2.19"
MEMBER = "django/contrib/auth/common-passwords.txt.gz"
MEMBER_SHA256 = "3c1baed62596de36860824eb3f436d5932d37ca8b06e59df78f5a44ec175afe4"
KEEP = 10_000
OUTPUT = Path(__file__).resolve().parents[1] / "src/conexoos/app/data/common_passwords.txt.gz"


def download_wheel(folder: Path) -> Path:
    """Download the pinned Django wheel with pip; return its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", DJANGO]
    subprocess.run([*command, "--dest", str(folder)], check=True)
    return next(folder.glob("Django-*.whl"), None) or next(folder.glob("django-*.whl"))


def most_common(wheel: Path) -> list[str]:
    """The first ``KEEP`` passwords of Django's list, after checking the file is the one recorded."""
    with zipfile.ZipFile(wheel) as archive:
        packed = archive.read(MEMBER)
    if hashlib.sha256(packed).hexdigest() != MEMBER_SHA256:
        raise SystemExit(f"{MEMBER} in {wheel.name} is not the recorded file (sha256 differs)")
    lines = gzip.decompress(packed).decode().splitlines()
    passwords = list(dict.fromkeys(line.strip() for line in lines if line.strip()))
    return passwords[:KEEP]


def main() -> None:
    """Write the list next to the product's code."""
    with tempfile.TemporaryDirectory() as folder:
        wheel = Path(sys.argv[1]) if len(sys.argv) > 1 else download_wheel(Path(folder))
        passwords = most_common(wheel)
    body = ("\n".join(passwords) + "\n").encode()
    OUTPUT.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    print(f"wrote {len(passwords)} passwords to {OUTPUT}")


if __name__ == "__main__":
    main()
