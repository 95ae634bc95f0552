"""A self-signed certificate and key for a test server, made with openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed(folder: Path, name: str = "127.0.0.1") -> tuple[Path, Path]:
    """A one-day certificate for ``name`` and its key, as PEM files in ``folder``: their paths."""
    certificate, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}"]
        + ["-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    return certificate, key


def encrypted_self_signed(folder: Path, passphrase: str = "secret") -> tuple[Path, Path]:
    """A one-day certificate and its key encrypted with ``passphrase``, as PEM files in ``folder``."""
    certificate, key = folder / "encrypted.crt", folder / "encrypted.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-passout", f"pass:{passphrase}", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    return certificate, key
