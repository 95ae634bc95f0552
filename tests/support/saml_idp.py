"""Start the test SAML identity provider (:mod:`tests.support.saml_idp_server`) in its own process.

Keys and certificates are generated with ``cryptography``; the IdP serves its metadata over HTTP and writes
it to a file. A test registers its service provider with :meth:`SamlIdp.register_sp` (the SP's metadata
XML), as an operator would at a real IdP. Without xmlsec1 the tests skip (or fail under
``CONEXOOS_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import datetime
import html
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.framework.helpers import free_port, port_open, python_process, wait_until
from tests.support.services import REQUIRE_SERVICES

SERVER_SCRIPT = Path(__file__).with_name("saml_idp_server.py")
START_TIMEOUT = 20.0
PASSWORD = "idp-password"
USERS = {
    "ada": {
        "password": PASSWORD,
        "subject": "ada-persistent-7f3c",
        "attributes": {
            "uid": ["ada"],
            "mail": ["ada@example.org"],
            "displayName": ["Ada Lovelace"],
            "groups": ["staff", "Conexoos-Admins"],
        },
    },
    "bob": {
        "password": PASSWORD,
        "subject": "bob-persistent-91aa",
        "attributes": {
            "uid": ["bob"],
            "mail": ["bob@example.org"],
            "displayName": ["Bob"],
            "groups": ["staff"],
        },
    },
}


def write_key_pair(folder: Path, name: str, common_name: str) -> tuple[Path, Path]:
    """A new RSA key and a self-signed certificate for it, as PEM files ``name.key`` and ``name.crt``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@dataclass
class SamlIdp:
    """A running test IdP: ``url`` (``http://127.0.0.1:PORT``), its metadata URL and file."""

    url: str
    folder: Path
    port: int

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/metadata"

    @property
    def entity_id(self) -> str:
        return f"{self.url}/metadata"

    @property
    def metadata_file(self) -> Path:
        return self.folder / "idp-metadata.xml"

    def register_sp(self, metadata_xml: bytes) -> None:
        """Trust a service provider: the IdP reads its entity id, ACS, SLS and certificate."""
        answer = requests.post(f"{self.url}/sp-metadata", data=metadata_xml, timeout=10)
        answer.raise_for_status()

    def log_in(
        self,
        session: requests.Session,
        login_page: requests.Response,
        username: str = "ada",
        mode: str = "normal",
        password: str = PASSWORD,
    ) -> dict[str, str]:
        """Post the login form shown at ``login_page``; the form fields the IdP sends back to the ACS."""
        key = re.search(r'name="key" value="([^"]+)"', login_page.text)
        assert key, login_page.text
        answer = session.post(
            f"{self.url}/login",
            data={
                "key": html.unescape(key.group(1)),
                "username": username,
                "password": password,
                "mode": mode,
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return post_form_fields(answer.text)


def post_form_fields(page: str) -> dict[str, str]:
    """The hidden fields of an auto-posting SAML form (SAMLResponse, RelayState)."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return {name: html.unescape(value) for name, value in fields.items()}


def require_xmlsec1() -> None:
    """Skip (or fail under CONEXOOS_REQUIRE_SERVICES=1) without Debian's xmlsec1."""
    if shutil.which("xmlsec1"):
        return
    reason = "xmlsec1 is not installed (apt-get install xmlsec1); pysaml2 signs and checks with it"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@contextmanager
def run_saml_idp(folder: Path, port: int | None = None) -> Iterator[SamlIdp]:
    """Start the IdP in its own process on a free port (or ``port``); stop it when the block ends."""
    require_xmlsec1()
    folder.mkdir(parents=True, exist_ok=True)
    key, cert = write_key_pair(folder, "idp", "Test IdP")
    other_key, other_cert = write_key_pair(folder, "other", "Test IdP (another key)")
    settings = {
        "keys": {
            "key": str(key),
            "cert": str(cert),
            "other_key": str(other_key),
            "other_cert": str(other_cert),
        },
        "users": USERS,
    }
    (folder / "idp.json").write_text(json.dumps(settings))
    port = port or free_port()
    with python_process(SERVER_SCRIPT, str(folder), str(port), log=folder / "idp.log") as process:
        ready = wait_until(lambda: (folder / "ready").exists() and port_open(port), START_TIMEOUT)
        if not ready:
            log = (folder / "idp.log").read_text(errors="replace")
            raise RuntimeError(f"the test SAML IdP did not start (exit {process.poll()}):\n{log}")
        yield SamlIdp(url=f"http://127.0.0.1:{port}", folder=folder, port=port)
