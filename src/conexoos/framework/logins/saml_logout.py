"""Single logout at ``/saml/sls``: the identity provider's LogoutResponse to our LogoutRequest, or its own
LogoutRequest (which must be signed by it) ending the session of the browser that logged in with that
NameID, answered with our LogoutResponse."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import redirect, request, session
from flask.typing import ResponseReturnValue
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.samlp import STATUS_SUCCESS
from saml2.xmldsig import SIG_RSA_SHA256

from .base import LoginFailed
from .oidc import local_path
from .saml_algorithms import check_redirect_algorithm, check_signature_algorithms
from .saml_context import SESSION_LOGIN, current_provider, failure_page, no_store
from .saml_messages import check_message_sizes

log = logging.getLogger("conexoos.logins.saml")

BAD_LOGOUT = "The identity provider's logout message could not be accepted."


def single_logout() -> ResponseReturnValue:
    """The identity provider's LogoutResponse (back to the page after logout) or LogoutRequest (end this
    browser's SAML session, answer with a signed LogoutResponse)."""
    values = request.values
    binding = BINDING_HTTP_POST if request.method == "POST" else BINDING_HTTP_REDIRECT
    try:
        check_message_sizes(values)
        if values.get("SAMLResponse"):
            return _logout_response(values["SAMLResponse"], binding, values.get("RelayState", ""))
        if values.get("SAMLRequest"):
            return _logout_request(values, binding)
    except LoginFailed as error:
        return failure_page(error)
    return failure_page(LoginFailed(BAD_LOGOUT))


def _logout_response(message: str, binding: str, relay_state: str) -> ResponseReturnValue:
    client, idp = current_provider().client()
    check_redirect_algorithm(request.values.get("SigAlg"), BAD_LOGOUT)
    try:
        answer = client.parse_logout_request_response(message, binding)
    except Exception as error:  # noqa: BLE001 - pysaml2 raises bare Exceptions for failed checks
        log.warning("SAML: LogoutResponse refused: %s: %s", type(error).__name__, error)
        raise LoginFailed(BAD_LOGOUT) from None
    status = answer.response.status.status_code.value if answer is not None else None
    if answer is None or _issuer_text(answer.response.issuer) != idp or status != STATUS_SUCCESS:
        log.warning("SAML: LogoutResponse not a success from %s: %s", idp, status)
    return redirect(local_path(relay_state) or "/", code=303)


def _logout_request(values: Mapping[str, str], binding: str) -> ResponseReturnValue:
    client, idp = current_provider().client()
    if binding == BINDING_HTTP_REDIRECT and not (values.get("Signature") and values.get("SigAlg")):
        log.warning("SAML: unsigned LogoutRequest refused")
        raise LoginFailed(BAD_LOGOUT)
    check_redirect_algorithm(values.get("SigAlg"), BAD_LOGOUT)
    try:
        parsed = client.parse_logout_request(
            values["SAMLRequest"],
            binding,
            relay_state=values.get("RelayState"),
            sigalg=values.get("SigAlg"),
            signature=values.get("Signature"),
        )
        if binding == BINDING_HTTP_REDIRECT and not parsed._do_redirect_sig_check(_redirect_message(values)):
            raise ValueError("the redirect binding's signature does not verify")
    except Exception as error:  # noqa: BLE001 - pysaml2 raises bare Exceptions for failed checks
        log.warning("SAML: LogoutRequest refused: %s: %s", type(error).__name__, error)
        raise LoginFailed(BAD_LOGOUT) from None
    if binding == BINDING_HTTP_POST and not parsed.message.signature:
        log.warning("SAML: unsigned LogoutRequest refused")
        raise LoginFailed(BAD_LOGOUT)
    check_signature_algorithms(BAD_LOGOUT, parsed.message)
    if _issuer_text(parsed.message.issuer) != idp:
        log.warning("SAML: LogoutRequest from %r refused: not %r", _issuer_text(parsed.message.issuer), idp)
        raise LoginFailed(BAD_LOGOUT)
    _end_session_of(parsed.message)
    try:
        location = _logout_answer(client, parsed.message, values.get("RelayState", ""))
    except Exception as error:  # noqa: BLE001 - the session is ended; only the answer to the IdP failed
        log.warning("SAML: no LogoutResponse sent to %s: %s: %s", idp, type(error).__name__, error)
        return redirect("/", code=303)
    return no_store(redirect(location, code=303))


def _logout_answer(client: Any, message: Any, relay_state: str) -> str:
    """Where to send the browser with our LogoutResponse (signed when there is a key pair)."""
    response = client.create_logout_response(message, [BINDING_HTTP_REDIRECT], sign=False)
    destination = client.response_args(message, [BINDING_HTTP_REDIRECT])["destination"]
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(response),
        destination,
        relay_state,
        response=True,
        sign=current_provider().settings.signs,
        sigalg=SIG_RSA_SHA256,
    )
    return str(dict(info["headers"])["Location"])


def _redirect_message(values: Mapping[str, str]) -> dict[str, str]:
    message = {
        "SAMLRequest": values["SAMLRequest"],
        "Signature": values["Signature"],
        "SigAlg": values["SigAlg"],
    }
    if values.get("RelayState") is not None:
        message["RelayState"] = values["RelayState"]
    return message


def _end_session_of(message: Any) -> None:
    """Clear this browser's session when its SAML login is the one the identity provider logs out."""
    state = session.get(SESSION_LOGIN) or {}
    name_id = (message.name_id.text or "").strip() if message.name_id is not None else ""
    if state.get("name_id") and state.get("name_id") == name_id:
        session.clear()
        log.info("SAML: single logout ended the session of %s", name_id)


def _issuer_text(issuer: Any) -> str:
    return (getattr(issuer, "text", None) or "").strip()
