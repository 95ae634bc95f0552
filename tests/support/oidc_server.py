"""Run the real OpenID provider (the certified ``oidc-provider`` npm package, under Node) for a test module.

``tests/support/oidc_provider/provider.mjs`` is started on a free loopback port with a JSON configuration
written here (clients, accounts, signing keys); the fixture waits until its discovery document answers.
When Node or the package is missing the tests are skipped with the reason (``npm ci`` in that folder), or
fail under ``CONEXOOS_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc.jwk import RSAKey

from tests.support.services import REQUIRE_SERVICES

PROVIDER_FOLDER = Path(__file__).parent / "oidc_provider"
SCRIPT = PROVIDER_FOLDER / "provider.mjs"
READY_TIMEOUT = 20.0
DISCOVERY_PATH = "/.well-known/openid-configuration"


def signing_key(kid: str) -> dict[str, Any]:
    """A new RSA signing key as a private JWK named ``kid``."""
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)
    return dict(key.as_dict(private=True))


def public_jwks(*private_keys: Mapping[str, Any]) -> dict[str, Any]:
    """The JWKS a provider would publish for these private keys."""
    return {"keys": [RSAKey.import_key(dict(key)).as_dict(private=False) for key in private_keys]}


def node_or_skip() -> str:
    """The ``node`` executable, after checking the provider's npm packages are installed; else skip/fail."""
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js is not installed (apt-get install nodejs npm)")
    elif not (PROVIDER_FOLDER / "node_modules" / "oidc-provider").is_dir():
        _unavailable(f"the OpenID provider's npm packages are missing: run `npm ci` in {PROVIDER_FOLDER}")
    assert node is not None
    return node


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class OidcProvider:
    """A running provider: ``issuer`` is ``http://127.0.0.1:PORT``."""

    node: str
    folder: Path
    port: int
    config: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)

    @property
    def issuer(self) -> str:
        return str(self.config["issuer"])

    @property
    def log(self) -> Path:
        return self.folder / f"provider-{self.restarts}.log"

    def start(self) -> None:
        """Write the configuration and start Node; return once discovery answers."""
        path = self.folder / "provider.json"
        path.write_text(json.dumps(self.config), encoding="utf-8")
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [self.node, str(SCRIPT), str(path), str(self.port)],
                cwd=PROVIDER_FOLDER,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_ready()

    def stop(self) -> None:
        """Stop Node (terminate, then kill after 5 seconds)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self, **changes: Any) -> None:
        """Stop, change the configuration (e.g. ``jwks=`` for a key rotation) and start again."""
        self.stop()
        self.config.update(changes)
        self.restarts += 1
        self.start()

    def set_mode(self, **mode: Any) -> None:
        """How the provider misbehaves from now on (see provider.mjs); no argument: behave."""
        answer = requests.post(f"{self.issuer}/__test__/mode", json=mode, headers=self._admin, timeout=5)
        answer.raise_for_status()

    def stats(self) -> dict[str, int]:
        """How many JWKS, token and userinfo requests the provider served."""
        answer = requests.get(f"{self.issuer}/__test__/stats", headers=self._admin, timeout=5)
        answer.raise_for_status()
        counts: dict[str, int] = answer.json()
        return counts

    @property
    def _admin(self) -> dict[str, str]:
        return {"x-admin-token": str(self.config["admin_token"])}

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited:\n{self.log.read_text(errors='replace')}")
            try:
                if requests.get(self.issuer + DISCOVERY_PATH, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"the OpenID provider did not answer within {READY_TIMEOUT:.0f} s:\n"
            f"{self.log.read_text(errors='replace')}"
        )


@contextmanager
def run_oidc_provider(
    folder: Path,
    clients: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
    port: int | None = None,
    **options: Any,
) -> Iterator[OidcProvider]:
    """Start the provider with ``clients`` and ``accounts`` (``sub``, ``username``, ``password``,
    ``claims``) on ``port`` (default: a free one); ``options`` go into its configuration (``jwks``,
    ``id_token_ttl``, ``conform_id_token_claims``). Skips when Node or the npm packages are missing."""
    node = node_or_skip()
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config: dict[str, Any] = {
        "issuer": f"http://127.0.0.1:{port}",
        "admin_token": secrets.token_urlsafe(24),
        "clients": clients,
        "accounts": accounts,
        "jwks": {"keys": [signing_key("key-1")]},
        **options,
    }
    provider = OidcProvider(node=node, folder=folder, port=port, config=config)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()
