"""The signature and digest algorithms SAML messages may use here: SHA-256 and stronger. SHA-1 and MD5
(which pysaml2 and xmlsec1 still accept) are refused on every received message, and not advertised."""

from __future__ import annotations

import logging
from typing import Any

from saml2.xmldsig import (
    DIGEST_SHA256,
    DIGEST_SHA384,
    DIGEST_SHA512,
    SIG_ECDSA_SHA256,
    SIG_ECDSA_SHA384,
    SIG_ECDSA_SHA512,
    SIG_RSA_SHA256,
    SIG_RSA_SHA384,
    SIG_RSA_SHA512,
)

from .base import LoginFailed

ACCEPTED_SIGNATURES = frozenset(
    {
        SIG_RSA_SHA256,
        SIG_RSA_SHA384,
        SIG_RSA_SHA512,
        SIG_ECDSA_SHA256,
        SIG_ECDSA_SHA384,
        SIG_ECDSA_SHA512,
    }
)
ACCEPTED_DIGESTS = frozenset({DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512})
ACCEPTED_ALGORITHMS = ACCEPTED_SIGNATURES | ACCEPTED_DIGESTS

log = logging.getLogger("conexoos.logins.saml")


def weak_algorithms(*elements: Any) -> list[str]:
    """The signature and digest algorithms of the XML signatures of ``elements`` (pysaml2 objects with a
    ``signature``, or None) that are not accepted."""
    weak = []
    for element in elements:
        signature = getattr(element, "signature", None)
        if signature is None or signature.signed_info is None:
            continue
        method = signature.signed_info.signature_method
        if method is None or method.algorithm not in ACCEPTED_SIGNATURES:
            weak.append(str(getattr(method, "algorithm", None)))
        for reference in signature.signed_info.reference or []:
            digest = reference.digest_method
            if digest is None or digest.algorithm not in ACCEPTED_DIGESTS:
                weak.append(str(getattr(digest, "algorithm", None)))
    return weak


def check_signature_algorithms(message: str, *elements: Any) -> None:
    """Raise :class:`LoginFailed` with ``message`` when a signature of ``elements`` uses SHA-1, MD5 or
    another algorithm weaker than SHA-256 (the reason is logged)."""
    weak = weak_algorithms(*elements)
    if weak:
        log.warning("SAML: message refused: signed with weak algorithms %s (SHA-256 or stronger only)", weak)
        raise LoginFailed(message)


def check_redirect_algorithm(sigalg: str | None, message: str) -> None:
    """Raise :class:`LoginFailed` with ``message`` when the redirect binding's SigAlg is not accepted."""
    if sigalg is not None and sigalg not in ACCEPTED_SIGNATURES:
        log.warning("SAML: message refused: SigAlg %r is weak (SHA-256 or stronger only)", sigalg)
        raise LoginFailed(message)
