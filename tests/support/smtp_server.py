"""A real SMTP server for tests (aiosmtpd in its own thread, on a free loopback port).

It keeps every message it accepts, parsed, and can be stopped and started again on the same port (an SMTP
server that is down, then back), serve TLS from the start or STARTTLS with a self-signed certificate made
by :func:`self_signed_certificate`, ask for a login, and refuse chosen recipients with a given code.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "localhost"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and ``127.0.0.1`` with its key, as PEM files in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """One accepted message: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The decoded ``text/<subtype>`` part (plain or html)."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, f"no text/{subtype} part"
        return str(body.get_content())


@dataclass
class _Handler:
    server: SmtpServer

    async def handle_RCPT(self, _server: Any, _session: Any, envelope: Any, address: str, _opts: Any) -> str:
        refusal = self.server.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.server.lock:
            self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    """The server: ``start()``, ``stop()``, and what it received in ``messages``."""

    port: int = field(default_factory=free_port)
    security: str = "none"
    """none, starttls or tls (TLS from the start)."""
    certificate: tuple[Path, Path] | None = None
    login: tuple[str, str] | None = None
    refuse: dict[str, str] = field(default_factory=dict)
    """Recipient address → SMTP answer refusing it, e.g. ``"550 5.1.1 no such user"``."""
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        """Listen on :attr:`port` (the same port after a :meth:`stop`)."""
        context = None
        if self.certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.certificate))
        kwargs: dict[str, Any] = {}
        if self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self.login is not None:
            # With TLS from the start aiosmtpd does not see the session as encrypted: it would not offer AUTH.
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.security == "starttls")
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=context if self.security == "tls" else None,
            server_hostname=HOST,
            ready_timeout=10,
            **kwargs,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are then refused)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages once at least ``count`` have arrived (AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.messages)} messages arrived, expected {count}")

    def settings(self, **extra: Any) -> dict[str, Any]:
        """``SERVICES.smtp`` pointing at this server."""
        conf: dict[str, Any] = {"HOST": HOST, "PORT": self.port, "SECURITY": self.security, "TIMEOUT": 5}
        if self.login is not None:
            conf.update(USER=self.login[0], PASSWORD=self.login[1])
        conf.update(FROM="Conexoos <no-reply@links.example.org>")
        conf.update(extra)
        return conf

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, _how: str, data: Any) -> AuthResult:
        valid = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=valid, handled=False)
