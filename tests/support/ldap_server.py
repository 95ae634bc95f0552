"""Debian's OpenLDAP ``slapd`` of the test's own: a generated cn=config and seed entries, on free loopback
ports (ldap:// with StartTLS, and ldaps://), with a CA and server certificate made for it.

People (``uid``, password): alice (``alice-pw``, in ``admins`` and ``staff``), bob (``bob-pw``, in
``staff``), carol (``carol-pw``, no group). The search account is ``cn=reader,dc=example,dc=org``
(``reader-pw``). The directory refuses anonymous reads.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.framework.helpers import free_port, port_open, wait_until
from tests.support import process_signals
from tests.support.services import REQUIRE_SERVICES

SUFFIX = "dc=example,dc=org"
READER_DN = f"cn=reader,{SUFFIX}"
READER_PASSWORD = "reader-pw"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
START_TIMEOUT = 15.0
SCHEMAS = ("core", "cosine", "inetorgperson")
CONFIG_LDIF = textwrap.dedent(
    """\
    dn: cn=config
    objectClass: olcGlobal
    cn: config
    olcPidFile: FOLDER/slapd.pid
    olcTLSCACertificateFile: CA_FILE
    olcTLSCertificateFile: FOLDER/server.pem
    olcTLSCertificateKeyFile: FOLDER/server-key.pem

    dn: cn=module{0},cn=config
    objectClass: olcModuleList
    cn: module{0}
    olcModulePath: /usr/lib/ldap
    olcModuleLoad: back_mdb

    dn: cn=schema,cn=config
    objectClass: olcSchemaConfig
    cn: schema

    INCLUDES

    dn: olcDatabase={0}config,cn=config
    objectClass: olcDatabaseConfig
    olcDatabase: {0}config
    olcAccess: {0}to * by * none

    dn: olcDatabase={1}mdb,cn=config
    objectClass: olcDatabaseConfig
    objectClass: olcMdbConfig
    olcDatabase: {1}mdb
    olcSuffix: SUFFIX
    olcRootDN: cn=admin,SUFFIX
    olcDbDirectory: FOLDER/data
    olcDbMaxSize: 16777216
    olcAccess: {0}to attrs=userPassword by anonymous auth by * none
    olcAccess: {1}to * by users read by * none
    """
)


def _ssha(password: str) -> str:
    """A salted SHA-1 userPassword value, as slappasswd makes it."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


@contextmanager
def running_ldap_server() -> Iterator[LdapServer]:
    """A started :class:`LdapServer`, removed afterwards (use it in a module or session fixture). Without
    slapd the test is skipped, or fails under ``CONEXOOS_REQUIRE_SERVICES=1``."""
    try:
        server = LdapServer()
    except RuntimeError as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"{error} (CONEXOOS_REQUIRE_SERVICES=1)")
        pytest.skip(str(error))
    try:
        yield server.start()
    finally:
        server.remove()


class LdapServer:
    """``slapd`` in a child process: start(), stop(), pause()/resume() (a directory that stops answering)."""

    def __init__(self) -> None:
        self.slapd, self.slapadd = _program("slapd"), _program("slapadd")
        self.folder = Path(tempfile.mkdtemp(prefix="conexoos-slapd-"))
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = self.folder / "ca.pem"
        self.other_ca_file = self.folder / "other-ca.pem"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self.folder / "slapd.log"

    @property
    def url(self) -> str:
        """ldap://127.0.0.1:PORT (StartTLS offered)."""
        return f"ldap://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str:
        """ldaps://127.0.0.1:PORT."""
        return f"ldaps://{self.host}:{self.tls_port}"

    def section(self, **changes: object) -> dict[str, object]:
        """A ``LOGINS.ldap`` section for this directory (admins are members of ``admins``)."""
        section: dict[str, object] = {
            "URL": self.url,
            "BIND_DN": READER_DN,
            "BIND_PASSWORD": READER_PASSWORD,
            "USER_BASE": PEOPLE,
            "USER_FILTER": "(uid={login})",
            "GROUP_BASE": GROUPS,
            "GROUP_FILTER": "(member={dn})",
            "ADMIN_GROUPS": ["admins"],
            "TIMEOUT": 2,
        }
        section.update(changes)
        return section

    def start(self) -> LdapServer:
        """Write the configuration and the entries, start slapd, wait until both ports answer."""
        self._write_certificates()
        config = self.folder / "slapd.d"
        if not config.exists():
            config.mkdir()
            (self.folder / "data").mkdir()
            self._slapadd(["-n0", "-F", str(config)], self._config_ldif())
            self._slapadd(["-n1", "-F", str(config)], self._seed_ldif())
        # 127.0.0.2 is this host too, under a name the certificate does not hold.
        urls = f"ldap://{self.host}:{self.port}/ ldaps://{self.host}:{self.tls_port}/ ldaps://127.0.0.2:{self.tls_port}/"
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [self.slapd, "-F", str(config), "-h", urls, "-d", "0"], stdout=log, stderr=subprocess.STDOUT
            )
        if not wait_until(lambda: port_open(self.port) and port_open(self.tls_port), START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"slapd did not start: {self._log.read_text(errors='replace')[-2000:]}")
        return self

    def stop(self) -> None:
        """Stop slapd (its data stays for a later start()); the ports refuse connections afterwards."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # a paused slapd cannot act on SIGTERM
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def pause(self) -> None:
        """Freeze slapd: connections are still accepted by the kernel, but nothing is ever answered."""
        assert self._process is not None
        process_signals.freeze(self._process.pid)

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        assert self._process is not None
        process_signals.thaw(self._process.pid)

    def remove(self) -> None:
        """Stop slapd and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _slapadd(self, arguments: list[str], ldif: str) -> None:
        source = self.folder / "input.ldif"
        source.write_text(ldif, encoding="utf-8")
        done = subprocess.run([self.slapadd, *arguments, "-l", str(source)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"slapadd {' '.join(arguments)} failed: {done.stderr.strip()}")

    def _config_ldif(self) -> str:
        includes = "\n".join(f"include: file:///etc/ldap/schema/{name}.ldif" for name in SCHEMAS)
        return (
            CONFIG_LDIF.replace("FOLDER", str(self.folder))
            .replace("SUFFIX", SUFFIX)
            .replace("INCLUDES", includes)
            .replace("CA_FILE", str(self.ca_file))
        )

    def _seed_ldif(self) -> str:
        entries = [
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
            f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
            f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
            f"dn: {READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
            f"cn: reader\nuserPassword: {_ssha(READER_PASSWORD)}",
        ]
        for uid, password in PASSWORDS.items():
            entries.append(
                f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid.title()} Example\n"
                f"sn: Example\nmail: {uid}@example.org\nuserPassword: {_ssha(password)}"
            )
        for group, members in (("admins", ["alice"]), ("staff", ["alice", "bob"])):
            member_lines = "\n".join(f"member: uid={uid},{PEOPLE}" for uid in members)
            entries.append(f"dn: cn={group},{GROUPS}\nobjectClass: groupOfNames\ncn: {group}\n{member_lines}")
        return "\n\n".join(entries) + "\n"

    def _write_certificates(self) -> None:
        if self.ca_file.exists():
            return
        ca_key, ca_cert = _certificate_authority("Conexoos test CA")
        server_key = ec.generate_private_key(ec.SECP256R1())
        names = x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(self.host))]
        )
        server_cert = (
            _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), ca_cert.subject)
            .public_key(server_key.public_key())
            .add_extension(names, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        (self.folder / "server.pem").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
        (self.folder / "server-key.pem").write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        _other_key, other_cert = _certificate_authority("Another CA")
        self.other_ca_file.write_bytes(other_cert.public_bytes(serialization.Encoding.PEM))


def _program(name: str) -> str:
    """The path of ``name``, also in /usr/sbin when PATH lacks it (as for users other than root)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin")
    if found is None:
        raise RuntimeError(f"{name} is not installed (apt-get install slapd ldap-utils)")
    return found


def _builder(subject: x509.Name, issuer: x509.Name) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
    )


def _certificate_authority(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        _builder(subject, subject)
        .public_key(key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate
