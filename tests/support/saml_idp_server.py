"""A SAML 2.0 identity provider for the tests: pysaml2's ``saml2.server.Server`` behind a tiny WSGI app.

Run in its own process by :mod:`tests.support.saml_idp`:
``python saml_idp_server.py FOLDER PORT``, where FOLDER holds ``idp.json`` (keys, users). Routes:

- ``GET /metadata``: the IdP's metadata (also written to FOLDER/idp-metadata.xml at start).
- ``POST /sp-metadata``: register a service provider's metadata (its XML as the body).
- ``GET /sso/redirect``: an AuthnRequest (its signature is required) → the login page.
- ``POST /login``: username, password, key and a test ``mode`` → the auto-posting form to the ACS.
- ``GET /slo/redirect``: a LogoutRequest from the SP (signed) → a LogoutResponse back to its SLS.
- ``GET /initiate-logout?sp=..&name_id=..&session_index=..``: an IdP-initiated LogoutRequest to the SP.

Modes of ``POST /login`` (the test switches): ``normal``, ``unsigned`` (no signature at all), ``other-key``
(signed with a key the SP does not know), ``other-issuer`` (an unknown IdP entity id, signed with the real
key), ``wrong-audience``, ``wrong-recipient`` (Destination and Recipient another site's ACS), ``expired``
(NotOnOrAfter in the past), ``fixed-id`` (every assertion has the same id, FIXED_ASSERTION_ID),
``encrypted`` (the signed assertion encrypted for the SP's certificate from its metadata, as ADFS does by
default), ``encrypted-unsigned``, and ``deny`` (a Responder/AuthnFailed status).
"""

from __future__ import annotations

import html
import json
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import saml2.assertion
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.authn_context import PASSWORD
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import assertion_factory
from saml2.samlp import STATUS_AUTHN_FAILED
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

FIXED_ASSERTION_ID = f"_fixed-{secrets.token_hex(8)}"
"""One per IdP process, so that a shared Redis holding the last run's ids does not see it already."""
STRANGER = "https://stranger.example/idp"
MODES = (
    "normal",
    "unsigned",
    "other-key",
    "other-issuer",
    "wrong-audience",
    "wrong-recipient",
    "expired",
    "fixed-id",
    "deny",
    "encrypted",
    "encrypted-unsigned",
)
_fixed_id: list[str] = []


def _assertion_factory(**kwargs: Any) -> Any:
    """pysaml2's assertion factory, with the id fixed while ``fixed-id`` mode answers."""
    made = assertion_factory(**kwargs)
    if _fixed_id:
        made.id = _fixed_id[0]
    return made


saml2.assertion.assertion_factory = _assertion_factory


class IdentityProvider:
    """The IdP's state: its pysaml2 servers (the real one, one with another key, one issuing expired
    assertions), the registered SPs, the users and the pending logins."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.settings = json.loads((folder / "idp.json").read_text())
        self.base = f"http://127.0.0.1:{port}"
        self.entity_id = f"{self.base}/metadata"
        self.sp_files: list[str] = []
        self.pending: dict[str, dict[str, Any]] = {}
        self._build()
        (folder / "idp-metadata.xml").write_text(self.metadata())

    def _build(self) -> None:
        keys = self.settings["keys"]
        self.server = self._server(keys["key"], keys["cert"], lifetime_minutes=15)
        self.rogue = self._server(keys["other_key"], keys["other_cert"], lifetime_minutes=15)
        self.expired = self._server(keys["key"], keys["cert"], lifetime_minutes=-10)
        self.stranger = self._server(keys["key"], keys["cert"], lifetime_minutes=15, entity_id=STRANGER)

    def _server(self, key: str, cert: str, lifetime_minutes: int, entity_id: str = "") -> Server:
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id or self.entity_id,
                "xmlsec_binary": "/usr/bin/xmlsec1",
                "key_file": key,
                "cert_file": cert,
                "metadata": {"local": list(self.sp_files)},
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(f"{self.base}/slo/redirect", BINDING_HTTP_REDIRECT)],
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": lifetime_minutes},
                                "name_form": saml.NAME_FORMAT_URI,
                            }
                        },
                        "name_id_format": [saml.NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": True,
                    }
                },
            }
        )
        return Server(config=config)

    def metadata(self) -> str:
        document = create_metadata_string("", config=self.server.config, sign=False)
        return document.decode() if isinstance(document, bytes) else str(document)

    def register_sp(self, xml: bytes) -> None:
        path = self.folder / f"sp-{len(self.sp_files)}.xml"
        path.write_bytes(xml)
        self.sp_files.append(str(path))
        self._build()

    # -- single sign-on ------------------------------------------------------------------------------------

    def start_login(self, query: dict[str, str]) -> str:
        parsed = self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        # pysaml2 checks a redirect binding's signature only with the query's SigAlg and Signature:
        if not query.get("Signature") or not parsed._do_redirect_sig_check(_redirect_message(query)):
            raise PermissionError("the AuthnRequest is not signed by a registered service provider")
        key = secrets.token_urlsafe(16)
        self.pending[key] = {"request": parsed.message, "relay_state": query.get("RelayState", "")}
        return key

    def finish_login(self, form: dict[str, str]) -> str:
        pending = self.pending.pop(form.get("key", ""), None)
        if pending is None:
            raise PermissionError("unknown login")
        user = self.settings["users"].get(form.get("username", ""))
        if user is None or user["password"] != form.get("password"):
            raise PermissionError("wrong username or password")
        mode = form.get("mode") or "normal"
        request = pending["request"]
        destination = request.assertion_consumer_service_url
        if mode == "deny":
            response = self.server.create_error_response(
                request.id, destination, (STATUS_AUTHN_FAILED, "the user said no"), sign=False
            )
        else:
            response = self._assertion_response(mode, request, destination, user)
        answer = self.server.apply_binding(
            BINDING_HTTP_POST, str(response), destination, pending["relay_state"], response=True
        )
        return str(answer["data"])

    def _assertion_response(self, mode: str, request: Any, destination: str, user: dict[str, Any]) -> Any:
        server = {"other-key": self.rogue, "expired": self.expired, "other-issuer": self.stranger}.get(
            mode, self.server
        )
        if mode == "wrong-recipient":
            destination = "https://elsewhere.example/saml/acs"
        audience = (
            "https://elsewhere.example/saml/metadata" if mode == "wrong-audience" else request.issuer.text
        )
        if mode == "fixed-id":
            _fixed_id.append(FIXED_ASSERTION_ID)
        try:
            return server.create_authn_response(
                dict(user["attributes"]),
                in_response_to=request.id,
                destination=destination,
                sp_entity_id=audience,
                name_id=saml.NameID(
                    format=saml.NAMEID_FORMAT_PERSISTENT,
                    text=user["subject"],
                    name_qualifier=self.entity_id,
                    sp_name_qualifier=request.issuer.text,
                ),
                authn={"class_ref": PASSWORD, "authn_auth": self.entity_id},
                sign_assertion=mode not in ("unsigned", "encrypted-unsigned"),
                sign_response=False,
                encrypt_assertion=mode in ("encrypted", "encrypted-unsigned"),
                encrypt_assertion_self_contained=True,
                sign_alg=SIG_RSA_SHA1 if mode == "sha1" else SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA1 if mode in ("sha1", "sha1-digest") else DIGEST_SHA256,
            )
        finally:
            _fixed_id.clear()

    # -- single logout -------------------------------------------------------------------------------------

    def logout(self, query: dict[str, str]) -> str:
        parsed = self.server.parse_logout_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        if not query.get("Signature") or not parsed._do_redirect_sig_check(_redirect_message(query)):
            raise PermissionError("the LogoutRequest is not signed by a registered service provider")
        response = self.server.create_logout_response(parsed.message, [BINDING_HTTP_REDIRECT], sign=False)
        destination = self.server.response_args(parsed.message, [BINDING_HTTP_REDIRECT])["destination"]
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            query.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        return str(dict(info["headers"])["Location"])

    def initiate_logout(self, query: dict[str, str]) -> str:
        sp = query["sp"]
        destination = self.server.metadata.single_logout_service(sp, BINDING_HTTP_REDIRECT, "spsso")[0][
            "location"
        ]
        _, request = self.server.create_logout_request(
            destination,
            sp,
            name_id=saml.NameID(format=saml.NAMEID_FORMAT_PERSISTENT, text=query["name_id"]),
            session_indexes=[query["session_index"]] if query.get("session_index") else None,
            sign=False,
        )
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(request),
            destination,
            "",
            sign=query.get("unsigned") != "1",
            sigalg=SIG_RSA_SHA256,
        )
        return str(dict(info["headers"])["Location"])


def _redirect_message(query: dict[str, str]) -> dict[str, str]:
    message = {key: query[key] for key in ("SAMLRequest", "SigAlg", "Signature") if key in query}
    if "RelayState" in query:
        message["RelayState"] = query["RelayState"]
    return message


LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Test IdP login</title></head>
<body><h1>Test identity provider</h1>
<form method="post" action="/login">
<input type="hidden" name="key" value="{key}">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password"></p>
<input type="hidden" name="mode" value="normal">
<p><button type="submit">Sign in</button></p></form></body></html>"""


def make_app(idp: IdentityProvider) -> Any:
    """The WSGI app serving ``idp``."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            status, headers, body = route(idp, environ)
        except PermissionError as error:
            status, headers, body = "403 Forbidden", [("Content-Type", "text/plain")], str(error).encode()
        except Exception as error:  # noqa: BLE001 - a test IdP reports its failure to the test
            status, headers = "400 Bad Request", [("Content-Type", "text/plain")]
            body = f"{type(error).__name__}: {error}".encode()
        start_response(status, headers)
        return [body]

    return app


def route(idp: IdentityProvider, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if path == "/metadata":
        return "200 OK", [("Content-Type", "application/samlmetadata+xml")], idp.metadata().encode()
    if path == "/sp-metadata" and method == "POST":
        idp.register_sp(_body(environ))
        return "204 No Content", [], b""
    if path == "/sso/redirect":
        page = LOGIN_PAGE.format(key=html.escape(idp.start_login(query)))
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], page.encode()
    if path == "/login" and method == "POST":
        form = {key: values[0] for key, values in parse_qs(_body(environ).decode()).items()}
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], idp.finish_login(form).encode()
    if path == "/slo/redirect" and "SAMLResponse" in query:
        idp.server.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
        return "200 OK", [("Content-Type", "text/plain")], b"Logged out at the identity provider"
    if path == "/slo/redirect":
        return "303 See Other", [("Location", idp.logout(query))], b""
    if path == "/initiate-logout":
        return "303 See Other", [("Location", idp.initiate_logout(query))], b""
    return "404 Not Found", [("Content-Type", "text/plain")], b"not found"


def _body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(length))


class QuietHandler(WSGIRequestHandler):
    """Logs requests to stderr only (the test's log file), without reverse DNS."""

    def address_string(self) -> str:
        return str(self.client_address[0])


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    idp = IdentityProvider(folder, port)
    with make_server("127.0.0.1", port, make_app(idp), handler_class=QuietHandler) as server:
        (folder / "ready").write_text("ready")
        server.serve_forever()


if __name__ == "__main__":
    main()
