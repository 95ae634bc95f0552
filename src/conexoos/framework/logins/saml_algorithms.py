"""The signature and digest algorithms SAML messages may use here: SHA-256 and stronger. SHA-1 and MD5
(which pysaml2 and xmlsec1 still accept) are refused on every received message, and not advertised."""

from __future__ import annotations

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
