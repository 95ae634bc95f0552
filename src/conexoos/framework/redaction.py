"""Hide secrets before a configuration value is shown: declared secret keys, secret-looking names, and the
password inside any ``scheme://user:password@host`` URL, wherever it appears."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from . import schema
from .schema import Entries, Key
from .url_userinfo import URL_START, FoundUrl, urls_in

REDACTED = "***"
SHORTEST_KNOWN_SECRET = 4
"""A configured secret at least this long is hidden in logs wherever it appears, in any words; a shorter one
only where its place says it is a secret (a URL's password, ``password=``: :func:`redact_credentials`).
Hidden as a word too, ``a`` made ``This is *** development server`` and gave itself away; a warning names
its key instead (:func:`short_secret_warnings`)."""

WEB_KEY_SCHEMES = ("http", "https")
"""``https://KEY@host``: a web address's user name alone is a key (Sentry's DSN, some webhooks); a
database's (``postgresql://app@db``) is shown."""


# password=xyz in a libpq DSN ("host=db password=xyz"), a query string or a driver's key=value list; also
# sslpassword=, token=, key=, api_key=, client_secret=, sig=, X-Amz-Signature= and the like, in any URL,
# their names percent-encoded too (api%5Fkey=, pass%77ord=): a server decodes a name before reading it;
# auth=, credentials=, pass=, passphrase=, a number or [] after the word (token2=, token[]=); written
# "password: x" (YAML, a header) or "password": "x" (JSON) too, and a value in double quotes.
_SECRET_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "key",
    "sig",
    "signature",
    "auth",
    "credential",
    "credentials",
    "pass",
    "passphrase",
    "cookie",
)


def _spelled(word: str) -> str:
    """A pattern for ``word`` with any of its letters percent-encoded (``%77`` or ``%57`` for ``w``)."""
    return "".join(f"(?:{letter}|%{ord(letter.lower()):02x}|%{ord(letter.upper()):02x})" for letter in word)


_KEYWORD_PASSWORD = re.compile(
    rf"(?P<head>(?<![\w%-])(?:[\w-]|%[0-9a-f]{{2}})*?(?:{'|'.join(map(_spelled, _SECRET_WORDS))})"
    r"(?:\d*|\[\])(?:\s*=\s*|[\"']\s*:\s*|\s*:\s+))"
    r"(?P<password>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s;&'\"]+)",
    re.IGNORECASE,
)
# MariaDB's and MySQL's "Access denied for user 'u'@'h' (using password: YES)": YES or NO is the server's
# fixed phrase (whether a password was sent), never the password, which the server does not repeat; read as
# "password: <value>", it became "(using password: ***" and told the operator less. Only that exact phrase,
# its case, its parenthesis and nothing but punctuation after it: "password: YES" anywhere else stays hidden.
_SERVER_PHRASE_BEFORE = "(using "
_SERVER_PHRASE_VALUE = re.compile(r"(?:YES|NO)\)[).,\]]*")


# An HTTP authorization written out: all after its scheme ("Authorization: Digest username=..,
# response=.."), or a bearer token ("Bearer eyJ...").
_AUTHORIZATION = re.compile(
    r"(?P<head>\bAuthorization\s*:\s*[A-Za-z-]+\s+)(?P<password>[^\r\n]+)"
    r"|(?P<bearer>\bBearer\s+)(?P<token>[^\s;,'\"]+)",
    re.IGNORECASE,
)
# Tokens whose shape says what they are, whatever key holds them: Stripe's secret and restricted keys,
# Stripe's webhook secrets, GitHub's tokens, AWS access key ids, Slack's tokens, and JSON Web Tokens.
_TOKEN_SHAPES = re.compile(
    r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}|AKIA[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"
)
# A private key written out in PEM: its whole body (to its END line, or to the end of the text).
_PEM_KEY = re.compile(
    r"(?P<head>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)", re.DOTALL
)


def redact_credentials(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` and every ``password=...``
    replaced by ``***``; the YES or NO of MariaDB's ``(using password: YES)`` is kept: the server's words.

    A URL whose user name or password holds an ``@``, ``/``, ``?`` or ``#`` written as such, which programs
    would split at different places (:mod:`url_userinfo`), is hidden from ``://`` to its last ``@``."""
    if "://" in text:
        text = _redact_userinfo(text)
    text = _PEM_KEY.sub(lambda found: f"{found['head']}{REDACTED}", text)
    if _names_a_secret_word(text):  # the pattern costs ~25 µs a line: a request line holds none, mostly
        text = _KEYWORD_PASSWORD.sub(_hide_keyword_value, text)
    text = _AUTHORIZATION.sub(lambda found: f"{found['head'] or found['bearer']}{REDACTED}", text)
    return _TOKEN_SHAPES.sub(REDACTED, text)


def _redact_userinfo(text: str) -> str:
    """``text`` with the user name and password of each URL shown as :func:`_shown_userinfo` says."""
    pieces: list[str] = []
    copied = 0
    for url in urls_in(text):
        if url.userinfo is not None:
            pieces += [text[copied : url.start], _shown_userinfo(url)]
            copied = url.start + url.userinfo.end
    return "".join(pieces) + text[copied:]


def _shown_userinfo(url: FoundUrl) -> str:
    """A URL's ``user:password`` as shown: ``user:***`` (``user:`` with an empty password); a web address's
    user name alone hidden (a key), another's shown; all hidden when the URL is ambiguous."""
    assert url.userinfo is not None
    if url.userinfo.ambiguous:
        return REDACTED
    user, colon, password = url.location[: url.userinfo.end].partition(":")
    if colon:
        return f"{user}:{REDACTED if password else ''}"
    return REDACTED if user and url.scheme.lower() in WEB_KEY_SCHEMES else user


def _url_passwords(text: str) -> list[str]:
    """What :func:`_redact_userinfo` hides of ``text``: each URL's password, a web address's key, or the
    whole user name and password of an ambiguous URL (and what follows its first ``:``)."""
    hidden = []
    for url in urls_in(text):
        if url.userinfo is None:
            continue
        userinfo = url.location[: url.userinfo.end]
        password = userinfo.partition(":")[2]
        if url.userinfo.ambiguous:
            hidden += [userinfo, password]
        elif ":" in userinfo or url.scheme.lower() in WEB_KEY_SCHEMES:
            hidden.append(password if ":" in userinfo else userinfo)
    return [secret for secret in hidden if secret]


def _hide_keyword_value(found: re.Match[str]) -> str:
    """A ``password=...`` match with its value hidden, or whole when it is MariaDB's fixed phrase."""
    return found[0] if _is_server_phrase(found) else f"{found['head']}{REDACTED}"


def _is_server_phrase(found: re.Match[str]) -> bool:
    """Whether a :data:`_KEYWORD_PASSWORD` match is the ``password: YES`` of MariaDB's and MySQL's
    ``(using password: YES)`` or ``(using password: NO)``: a server's words, no secret."""
    start = found.start() - len(_SERVER_PHRASE_BEFORE)
    return (
        found["head"] == "password: "
        and start >= 0
        and found.string.startswith(_SERVER_PHRASE_BEFORE, start)
        and _SERVER_PHRASE_VALUE.fullmatch(found["password"]) is not None
    )


def _names_a_secret_word(text: str) -> bool:
    """Whether ``text`` holds one of :data:`_SECRET_WORDS` in any case, letters percent-encoded or not:
    where :data:`_KEYWORD_PASSWORD` could find anything at all."""
    lowered = text.lower()
    if "%" in lowered:
        lowered = unquote(lowered)
    return any(word in lowered for word in _SECRET_WORDS)


def shown_malformed_url(text: str) -> str:
    """A URL that does not parse, for its error message: as written, with all that could be a password
    hidden. One that starts ``scheme://`` as :func:`redact_credentials` hides it; another from its ``//``
    (or its start) to its last ``@`` when that holds a ``:`` (``postgresql//***@h``; ``postgresql//u@h``
    whole). Several words (a DSN-like list whose parts cannot be told) or a password keyword: ``***``."""
    lowered = text.lower()
    if any(char.isspace() for char in text.strip()) or any(word in lowered for word in _PASSWORD_WORDS):
        return REDACTED
    if URL_START.match(text):
        return redact_credentials(text)
    end = text.rfind("@")
    slashes = text.find("//", 0, max(end, 0))
    start = slashes + 2 if slashes >= 0 else 0
    if end > start and ":" in text[start:end]:
        text = f"{text[:start]}{REDACTED}{text[end:]}"
    return redact_credentials(text)


_PASSWORD_WORDS = ("password", "passwd", "pwd")


def hidden_host(host: str) -> str:
    """A host as read from an ambiguous URL (``wor@d@127.0.0.1``: the end of a password, and the host)
    with all before its last ``@`` hidden; a host with no ``@`` after its first character (PostgreSQL's
    ``@name`` abstract socket) whole."""
    at = host.rfind("@")
    return host if at <= 0 else f"{REDACTED}{host[at:]}"


def redact_tree(tree: dict[str, Any], project_schema: schema.Schema | None = None) -> dict[str, Any]:
    """A copy of the configuration tree for display: secrets replaced by ``***``."""
    redacted = _redact(tree, (), _full_schema(project_schema or {}))
    assert isinstance(redacted, dict)
    return redacted


class Redactor:
    """Hides secrets in text bound for a log: each configured one (``secrets``, see
    :func:`secret_values`) wherever it appears, then whatever :func:`redact_credentials` recognises (a
    URL's password, ``token=``). A secret shorter than :data:`SHORTEST_KNOWN_SECRET` is left to those
    patterns: as a free word it cannot be told from the same word in the text (``a``, ``not``)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        long_enough = {secret for secret in secrets if len(secret) >= SHORTEST_KNOWN_SECRET}
        self.secrets = sorted(long_enough, key=len, reverse=True)
        """Hidden wherever they appear, the longest first: a secret holding another goes whole."""

    def known(self, text: str) -> str:
        """``text`` with each configured secret of :data:`SHORTEST_KNOWN_SECRET` characters or more replaced
        (a few ``str.replace``: cheap enough per request)."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def __call__(self, text: str) -> str:
        return redact_credentials(self.known(text))

    def in_url(self, text: str) -> str:
        """``text`` (a request line, a query string, a Referer) hidden as :meth:`__call__` hides it (its
        patterns only when it holds ``=`` or ``@``: this runs per request), or :meth:`decoded` so."""
        return self._decoded(text, self(text) if "=" in text or "@" in text else self.known(text))

    def with_decoded(self, text: str) -> str:
        """``text`` hidden as :meth:`__call__` hides it, or, when percent-decoding it shows a secret the
        encoded form hid (``password%3D...``, a configured secret with an escaped letter), its decoded form
        so hidden (a log line that quotes a request's URL)."""
        return self._decoded(text, self(text))

    def _decoded(self, text: str, shown: str) -> str:
        if "%" not in text:
            return shown
        decoded = unquote(text)
        hidden = self(decoded)
        return hidden if hidden != decoded else shown


def secret_values(tree: dict[str, Any], project_schema: schema.Schema | None = None) -> frozenset[str]:
    """Every secret the configuration tree holds, as written: the value of each key :func:`redact_tree`
    hides, and each password it hides inside a value (a URL's, a ``password=``'s); a :class:`Redactor`
    leaves the short ones to :func:`redact_credentials`."""
    found: set[str] = set()
    _hidden(tree, redact_tree(tree, project_schema), found)
    return frozenset(found)


def short_secret_warnings(tree: dict[str, Any], project_schema: schema.Schema | None = None) -> list[str]:
    """One warning per key holding a secret shorter than :data:`SHORTEST_KNOWN_SECRET` (a value
    :func:`secret_values` finds), naming the key and never the value."""
    short: dict[str, None] = {}
    _short_keys(tree, redact_tree(tree, project_schema), "", short)
    return [  # "KEY: ..." would read as a secret's value to redact_credentials: the warning is logged
        f"the secret {key} holds is shorter than {SHORTEST_KNOWN_SECRET} characters: it is weak, and the "
        "logs hide it only where its place says it is a secret (a URL's password, a password or token "
        "parameter), never as a word of free text: use a longer one"
        for key in short
    ]


def _short_keys(original: Any, shown: Any, path: str, short: dict[str, None]) -> None:
    """Add to ``short`` the path of each value of ``original`` that hides a short secret in ``shown``."""
    if isinstance(original, dict) and isinstance(shown, dict):
        for key, value in original.items():
            _short_keys(value, shown.get(key), f"{path}.{key}" if path else str(key), short)
    elif isinstance(original, list) and isinstance(shown, list):
        for item, shown_item in zip(original, shown, strict=True):
            _short_keys(item, shown_item, path, short)
    else:
        found: set[str] = set()
        _hidden(original, shown, found)
        if any(len(secret) < SHORTEST_KNOWN_SECRET for secret in found):
            short[path] = None


def _hidden(original: Any, shown: Any, found: set[str]) -> None:
    """Add to ``found`` what ``shown`` (``original`` redacted) hides of ``original``."""
    if isinstance(original, dict) and isinstance(shown, dict):
        for key, value in original.items():
            _hidden(value, shown.get(key), found)
    elif isinstance(original, list) and isinstance(shown, list):
        for item, shown_item in zip(original, shown, strict=True):
            _hidden(item, shown_item, found)
    elif shown == REDACTED and original not in ("", None, REDACTED):
        found.add(str(original))
    elif isinstance(original, str) and shown != original:
        found.update(_passwords_in(original))


def _passwords_in(text: str) -> set[str]:
    """The passwords :func:`redact_credentials` hides in ``text``, quotes around one taken off."""
    keyword_values = [found for found in _KEYWORD_PASSWORD.finditer(text) if not _is_server_phrase(found)]
    passwords = {match["password"].strip("'\"") for match in keyword_values if match["password"]}
    return passwords | set(_url_passwords(text))


def _full_schema(project_schema: schema.Schema) -> schema.Schema:
    services = {**schema.SERVICES, **_mapping(project_schema.get("SERVICES"))}
    return {
        "SERVER_ENV": schema.SERVER_ENV,
        "DATABASE": Entries(schema.DATABASE_CONNECTION, "connections"),
        "FLASK": schema.FLASK,
        "SERVICES": services,
        "APP": _mapping(project_schema.get("APP")),
    }


def _mapping(node: Any) -> schema.Schema:
    return node if isinstance(node, dict) else {}


def _redact(node: Any, path: tuple[str, ...], spec: Any, under_secret: bool = False) -> Any:
    """``node`` for display; every value below a secret key (``JWT_PRIVATE_KEYS: {kid: ...}``) is one too."""
    secret = under_secret or (bool(path) and _is_secret_key(path, spec))
    if isinstance(node, dict):
        return {
            key: _redact(value, (*path, str(key)), _child(spec, str(key)), secret)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_redact(item, path, spec, secret) for item in node]
    if node in ("", None) or not path:
        return node
    if secret:
        return REDACTED
    return redact_credentials(node) if isinstance(node, str) else node


def _child(spec: Any, name: str) -> Any:
    """The schema node for key ``name`` below ``spec``: a Key, a section, or None when undeclared."""
    if isinstance(spec, Entries):
        return spec.shape
    if isinstance(spec, dict):
        return spec.get(name) or _case_insensitive(spec, name)
    return None


def _case_insensitive(spec: dict[str, Any], name: str) -> Any:
    return next((value for key, value in spec.items() if key.upper() == name.upper()), None)


def _is_secret_key(path: tuple[str, ...], spec: Any) -> bool:
    """Whether the key at ``path`` holds a secret: as declared, or, undeclared, by its name. A declared
    section (``SERVICES``, a login's entries) is never one as a whole: its keys say."""
    if isinstance(spec, Key):
        return spec.secret
    if isinstance(spec, dict | Entries):
        return False
    return schema.is_secret_name(path[-1])
