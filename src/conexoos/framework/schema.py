"""The configuration keys the framework knows: their type, default and meaning.

This table is the single source of truth: validation, defaults, redaction and the README's
configuration reference all come from it. A project declares its own sections (``APP``, its own
``SERVICES`` entries) with the same :class:`Key` and :class:`Entries`, as ``SCHEMA`` in its
``server/config.py`` (see :func:`conexoos.framework.project.project_schema`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SESSION_BACKENDS = ("filesystem", "redis", "memcached", "sqlalchemy")
ENVIRONMENTS = ("DEV", "UAT", "PROD")
ENVIRONMENT_ALIASES = (("DEVELOPMENT", "DEV"), ("PRODUCTION", "PROD"))
"""flask-framework's spellings, read as ours."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_ROTATIONS = ("size", "external")
SMTP_SECURITY = ("none", "starttls", "tls")
WORKER_CLASSES = ("sync", "gthread", "eventlet", "gevent", "tornado")
MEDIA_BACKENDS = ("local", "database", "s3")
MAX_PORT = 65535
"""The highest TCP port: every port key, URL and option is checked against it."""
S3_ADDRESSING_STYLES = ("auto", "path", "virtual")


HOST_EXPECTED = "a host name or an IP address, not a URL (e.g. cache.internal or 10.0.0.5)"


def host_name(value: str, empty: bool = False) -> str:
    """``value`` when it names a host (``cache.internal``, ``10.0.0.5``, ``[::1]``); ValueError for an
    empty one (unless ``empty``) or a URL, a path or spaces, which no connection could use."""
    text = value.strip()
    if not text:
        if empty:
            return text
        raise ValueError("empty")
    if "://" in text or "/" in text or any(ch.isspace() for ch in text) or "@" in text:
        raise ValueError(text)
    return text


def optional_host_name(value: str) -> str:
    """:func:`host_name`, empty allowed (an optional server: none is used)."""
    return host_name(value, empty=True)


@dataclass(frozen=True)
class Key:
    """One configuration key."""

    kind: str
    """One of ``str``, ``int``, ``bool``, ``choice``, ``dict``, ``list`` (of strings)."""
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    secret: bool = False
    minimum: int | None = None
    maximum: int | None = None
    empty_means_default: bool = False
    """An empty string (an unset ``${VAR}``) falls back to the default instead of failing validation."""
    nullable: bool = False
    """``null`` is a value of its own (e.g. "unlimited"), kept as None instead of meaning the default."""
    required: bool = False
    """A missing, null or empty value is a mistake."""
    aliases: tuple[tuple[str, str], ...] = ()
    """For ``choice``: other spellings and the choice each one means, e.g. ``("PRODUCTION", "PROD")``."""
    convert: Callable[[Any], Any] | None = None
    """Applied to the typed value: returns the value to keep, or raises ValueError to refuse it."""
    expected: str = ""
    """What the key accepts, in words, when :meth:`expectation` cannot say it (used with ``convert``)."""

    def expectation(self) -> str:
        """Describe in words what this key accepts."""
        if self.expected:
            return self.expected
        if self.nullable:
            return self._base_expectation() + ", or null"
        return self._base_expectation()

    def type_name(self) -> str:
        """The type as the configuration reference shows it."""
        kind = f"one of {', '.join(self.choices)}" if self.kind == "choice" else self.kind
        kind = "list of strings" if kind == "list" else kind
        return f"{kind} or null" if self.nullable else kind

    def _base_expectation(self) -> str:
        if self.kind == "int":
            low = "" if self.minimum is None else f" from {self.minimum}"
            high = "" if self.maximum is None else f" to {self.maximum}"
            return f"an integer{low}{high}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "dict":
            return "a mapping of keys to values"
        if self.kind == "list":
            return "a list of strings (or one comma-separated string)"
        return "a string"


@dataclass(frozen=True)
class Entries:
    """A mapping whose keys are ids the operator chooses (``APP.PLANS.<id>``), each entry of ``shape``."""

    shape: Schema
    doc: str
    label: str = "id"
    """How the reference names the free-form level: ``APP.PLANS.<id>.MAX_LINKS``."""
    required: tuple[str, ...] = ()
    """Ids that must be present, e.g. the free plan."""
    default: Mapping[str, Any] = field(default_factory=dict)
    """The raw entries used when the mapping is absent or empty (validated like written ones)."""
    case_tolerant: bool = False
    """A known key written in another case (``max_links``) is read, with a warning."""
    check: Callable[[Mapping[str, Any]], list[str]] | None = None
    """Problems of the validated entries together (two plans sold under one price), each a sentence that
    the reference prefixes with the mapping's path; None: the entries are independent."""


Schema = dict[str, "Key | Entries | Schema"]

SERVER_ENV: Schema = {
    "APP_NAME": Key("str", "Conexoos", "Application name, shown in logs and page titles."),
    "APP_KEY": Key(
        "str",
        "",
        "Secret key that signs sessions and CSRF tokens. Empty under DEV: one is generated once and kept "
        "in the instance folder. Required under UAT and PROD.",
        secret=True,
    ),
    "ENV": Key(
        "choice",
        "DEV",
        "DEV (debugger, reloader), UAT or PROD (secure cookies, generic error pages); any case, and "
        "flask-framework's development and production are read as DEV and PROD.",
        choices=ENVIRONMENTS,
        aliases=ENVIRONMENT_ALIASES,
    ),
    "BIND": {
        "ADDRESS": Key("str", "127.0.0.1", "Address the server listens on."),
        "PORT": Key("int", 4200, "TCP port the server listens on.", minimum=1, maximum=MAX_PORT),
    },
    "WORKERS": Key(
        "str",
        "gevent",
        "Gunicorn worker class for `conexoos serve`: gevent (the default: slow and idle clients cost a "
        "greenlet, not a thread), or sync, gthread, eventlet, tornado, or a dotted class path.",
    ),
    "THREADS_PER_CORE": Key("int", 4, "Threads per gunicorn worker.", minimum=1, maximum=1024),
    "CAPTURE": Key("bool", False, "Redirect the workers' stdout and stderr into the error log."),
    "STATIC_PATH": Key("str", "static", "Static files folder, relative to the project."),
    "STATIC_MAX_AGE": Key(
        "int",
        300,
        "Seconds browsers may cache a static file fetched by its plain URL (/static/css/app.css); a URL "
        "built by url_for('static', ...) carries the file's content hash and is cached for a year, "
        "immutable.",
        minimum=0,
        maximum=31536000,
    ),
    "COMPRESSION": {
        "ENABLED": Key(
            "bool",
            True,
            "Compress HTML, CSS, JavaScript, JSON and SVG responses with Brotli or gzip, as the client "
            "accepts (turn off when a proxy in front already compresses).",
        ),
        "MIN_SIZE": Key(
            "int",
            1024,
            "Bytes below which a response is sent uncompressed (compressing it would save too little).",
            minimum=0,
            maximum=100 * 1024 * 1024,
        ),
        "GZIP_LEVEL": Key(
            "int", 6, "gzip level for generated responses (1 fastest, 9 smallest).", minimum=1, maximum=9
        ),
        "BROTLI_QUALITY": Key(
            "int",
            4,
            "Brotli quality for generated responses (0 fastest, 11 smallest); static files are compressed "
            "once each at the highest level.",
            minimum=0,
            maximum=11,
        ),
    },
    "CSRF": {
        "ENABLED": Key(
            "bool",
            None,
            "true: every POST, PUT, PATCH and DELETE must carry the session's CSRF token, in the form field "
            "csrf_token or the X-CSRFToken (or X-CSRF-Token) header, or is refused with a 400 (views and "
            "blueprints decorated with conexoos.framework.csrf_exempt are not checked); templates get "
            "csrf_token() either way. `conexoos new` writes true. null (not set): on for a flask-framework "
            "project, as flask-framework did; off for other projects written before this key existed, with "
            "a warning at the first unchecked write of each process. A project that sets up its own "
            "Flask-WTF CSRFProtect (the product) keeps it, and gets no second check; csrf_exempt's marks "
            "are handed to it (see Forms, scripts and CSRF).",
            nullable=True,
        ),
    },
    "TEMPLATE_PATH": Key(
        "str", "template", "Templates folder, relative to the project (`templates` is also found)."
    ),
    "SESSION": Key(
        "choice",
        "filesystem",
        "Where sessions are stored; redis and memcached need their "
        "SERVICES entry, sqlalchemy uses the default database.",
        choices=SESSION_BACKENDS,
    ),
    "INSTANCE_PATH": Key(
        "str",
        "instance",
        "Folder for local state (SQLite files, sessions, uploads, the "
        "generated key), relative to the configuration file's folder.",
    ),
    "MEDIA": {
        "BACKEND": Key(
            "choice",
            "local",
            "Where uploaded media (avatars, product images) is kept: local (MEDIA.PATH on this host), "
            "database (the media_file table of the default connection) or s3 (SERVICES.s3). With several "
            "hosts choose database or s3, so that each host serves every file; `conexoos media migrate "
            "--to BACKEND` copies the files before you switch.",
            choices=MEDIA_BACKENDS,
        ),
        "PATH": Key(
            "str",
            "uploads",
            "Folder of the local backend, relative to the instance folder.",
            empty_means_default=True,
        ),
    },
    "LOG": {
        "DIR": Key(
            "str",
            "",
            "Folder for rotating app.log and access.log, relative to the instance folder; empty logs to "
            "stderr.",
            empty_means_default=True,
        ),
        "LEVEL": Key(
            "choice",
            "INFO",
            "Log level of every logger: the framework's, the project's (its modules' and its Flask logger), "
            "a library's and Python's root logger; all write to app.log (stderr without LOG.DIR).",
            choices=LOG_LEVELS,
            empty_means_default=True,
        ),
        "ROTATE": Key(
            "choice",
            "size",
            "How the files in LOG.DIR (gunicorn's two included) are rotated: size (at 10 MB, five kept; "
            "for one worker) or external (reopened when logrotate moves them, looked at once a second at "
            "most; for several workers).",
            choices=LOG_ROTATIONS,
            empty_means_default=True,
        ),
    },
    "SECURITY_CONTACT": Key(
        "str",
        "",
        "Contact line of /.well-known/security.txt: an email address, a mailto: address or an https:// "
        "URL (RFC 9116); empty means security@ the site's host.",
    ),
    "SSL": {
        "Certificate": Key(
            "str",
            "",
            "PEM certificate file for `conexoos serve` over HTTPS, relative to the configuration file's "
            "folder.",
        ),
        "PrivateKey": Key("str", "", "PEM private key file matching SSL.Certificate.", secret=False),
    },
    "PUBLIC_URL": Key(
        "str",
        "",
        "The address people use, e.g. https://links.example.org: every absolute URL (canonical links, "
        "QR codes, Stripe return URLs, emails) starts with it, never with the request's Host header. "
        "Required under UAT and PROD; under DEV it defaults to http://BIND.ADDRESS:BIND.PORT "
        "(http://localhost:BIND.PORT for a wildcard address such as 0.0.0.0). Kept as browsers compare it: "
        "scheme and host in lower case, an international host name as its punycode (xn--...), no default "
        "port; a host that is no DNS name, IP address or localhost is refused.",
        empty_means_default=True,
    ),
    "TRUSTED_PROXIES": Key(
        "str",
        "",
        "Comma-separated addresses or CIDR networks of reverse proxies (e.g. 127.0.0.1, 10.0.0.0/8) whose "
        "X-Forwarded-For/-Proto/-Host headers are believed; empty: those headers are ignored.",
        empty_means_default=True,
    ),
    "WORKER_CONNECTIONS": Key(
        "int",
        1000,
        "Simultaneous connections per gevent worker (requests, slow clients and WebSockets together).",
        minimum=1,
        maximum=100000,
    ),
    "HEADER_TIMEOUT": Key(
        "int",
        10,
        "Seconds a client has to send a whole request head (and to start the next one on a kept-alive "
        "connection) before `conexoos serve` closes it.",
        minimum=1,
        maximum=3600,
    ),
    "BODY_TIMEOUT": Key(
        "int",
        60,
        "Seconds each 64 KiB of a request body (or its end) has to arrive before `conexoos serve` (gevent "
        "workers) answers 408 and closes the connection: a body slower than about 1 KiB/s is given up.",
        minimum=1,
        maximum=3600,
    ),
    "GRACEFUL_TIMEOUT": Key(
        "int",
        30,
        "Seconds `conexoos serve` lets in-flight requests finish after SIGTERM before it stops a worker.",
        minimum=1,
        maximum=3600,
    ),
    "SOCKETIO_JOIN_TIMEOUT": Key(
        "int",
        5,
        "Seconds a Socket.IO connection may stay open without joining a namespace (anonymous sockets the "
        "app refuses never join); 0 keeps them open.",
        minimum=0,
        maximum=3600,
    ),
    "STARTUP_WAIT": Key(
        "int",
        None,
        "Seconds `run` and `serve` wait, with back-off, for each database server to accept a connection "
        "before they give up with one line naming it (exit status 2); a wrong password or a missing "
        "database ends start-up at once. null: 30 under UAT and PROD, 5 under DEV; 0 tries once.",
        minimum=0,
        maximum=3600,
        nullable=True,
    ),
}

DATABASE_CONNECTION: Schema = {
    "driver": Key(
        "str",
        "",
        "SQLAlchemy driver: sqlite, postgresql (psycopg 3), mysql or mariadb (PyMySQL), or "
        "an explicit `dialect+driver`.",
    ),
    "user": Key("str", "", "Database user."),
    "password": Key("str", "", "Database password; any characters are allowed.", secret=True),
    "database": Key(
        "str", "", "Database name; for SQLite a file path relative to the instance folder, or :memory:."
    ),
    "address": Key(
        "str",
        "",
        "Host name or IP address of the database server; required for postgresql and mysql/mariadb (unless "
        "params names a socket: host, unix_socket).",
    ),
    "port": Key("int", None, "Port of the database server.", minimum=1, maximum=MAX_PORT),
    "params": Key("dict", {}, "Query parameters added to the connection URL (e.g. charset: utf8mb4)."),
    "readonly": Key(
        "bool", False, "true: the schema is never created or migrated here and writes are refused."
    ),
    "models": Key("str", "", "Module under models.persistent whose models live on this connection."),
    "connect_timeout": Key(
        "int",
        4,
        "Seconds to open a connection to a PostgreSQL or MySQL/MariaDB server (a `connect_timeout` in "
        "`params` or `url` wins).",
        minimum=1,
        maximum=300,
    ),
    "pool_timeout": Key(
        "int",
        5,
        "Seconds a request or task waits for a free pooled connection before it gives up (a web request "
        "answers 503).",
        minimum=1,
        maximum=300,
    ),
    "request_timeout": Key(
        "int",
        5,
        "Seconds one statement run for a web request may wait for a PostgreSQL or MySQL/MariaDB server "
        "before the connection is dropped and the request answers 503 (a frozen server, a lost route, a "
        "runaway query). Scheduled tasks and commands are not bound by it (see lock_timeout). 0: no bound.",
        minimum=0,
        maximum=3600,
    ),
    "lock_timeout": Key(
        "int",
        10,
        "Seconds a statement waits for a row or table lock held by another transaction before it fails "
        "(PostgreSQL `lock_timeout`, MariaDB `innodb_lock_wait_timeout`); requests answer 503, scheduled "
        "tasks retry. 0: PostgreSQL waits forever, MariaDB keeps its server default.",
        minimum=0,
        maximum=3600,
    ),
    # Not secret as a whole: shown with its password masked, like every other URL.
    "url": Key(
        "str",
        "",
        "A whole SQLAlchemy URL instead of the keys above: user, password, address, port, database or params "
        "written beside it is refused (it would not be used), and so is a driver of another database than "
        "the URL's; readonly, models and the timeouts apply. Percent-encode an `@`, `/`, `?` or `#` of the "
        "user name or password (`%40`, `%2F`, `%3F`, `%23`): written as such, it is refused.",
    ),
}

SERVICES: Schema = {
    "redis": {
        "HOST": Key("str", "localhost", "Redis host.", convert=host_name, expected=HOST_EXPECTED),
        "PORT": Key("int", 6379, "Redis port.", minimum=1, maximum=MAX_PORT),
        "DB": Key("int", 0, "Redis database number.", minimum=0),
        "PASSWORD": Key("str", "", "Redis password.", secret=True),
    },
    "filesystem": {
        "PATH": Key("str", "sessions", "Folder for file sessions, relative to the instance folder."),
    },
    "memcached": {
        "HOST": Key(
            "str",
            "localhost",
            "memcached host.",
            convert=host_name,
            expected=HOST_EXPECTED,
        ),
        "PORT": Key("int", 11211, "memcached port.", minimum=1, maximum=MAX_PORT),
    },
    "smtp": {
        "HOST": Key(
            "str",
            "",
            "SMTP server that sends the outbox's mail. Empty (or no `smtp` entry): under DEV mail is written "
            "to the log and to `instance/mail/*.eml`; under UAT and PROD it waits in the outbox.",
            empty_means_default=True,
            convert=optional_host_name,
            expected=HOST_EXPECTED,
        ),
        "PORT": Key(
            "int",
            None,
            "SMTP port; default by SECURITY: 587 for starttls, 465 for tls, 25 for none.",
            minimum=1,
            maximum=MAX_PORT,
            empty_means_default=True,
        ),
        "USER": Key("str", "", "Login name; empty: no authentication.", empty_means_default=True),
        "PASSWORD": Key("str", "", "Password of USER.", secret=True, empty_means_default=True),
        "SECURITY": Key(
            "choice",
            "starttls",
            "starttls (upgrade a plain connection, port 587), tls (TLS from the start, port 465) or none "
            "(plain text: only for a relay on the same machine or network). The server's certificate is "
            "verified against the system's CAs (`SSL_CERT_FILE` names another bundle).",
            choices=SMTP_SECURITY,
            empty_means_default=True,
        ),
        "FROM": Key(
            "str",
            "",
            "Sender of every message, `address` or `Name <address>`; empty: `APP_NAME <no-reply@host of "
            "PUBLIC_URL>`.",
            empty_means_default=True,
        ),
        "TIMEOUT": Key(
            "int",
            10,
            "Seconds to wait for the SMTP server (connecting and each answer).",
            minimum=1,
            maximum=300,
            empty_means_default=True,
        ),
        "KEEP_SENT_DAYS": Key(
            "int",
            7,
            "Days a sent message stays in the outbox (recipient, subject, times; its body is dropped once "
            "sent), then the `mail-outbox-prune` task deletes it. Read without an `smtp` entry too.",
            minimum=1,
            maximum=3650,
            empty_means_default=True,
        ),
        "KEEP_FAILED_DAYS": Key(
            "int",
            30,
            "Days a failed message (refused for good) stays in the outbox, whole, for `conexoos mail status` "
            "and `mail retry`, counted from when it was queued; then it is deleted.",
            minimum=1,
            maximum=3650,
            empty_means_default=True,
        ),
    },
    "s3": {
        "ENDPOINT_URL": Key(
            "str",
            "",
            "S3-compatible endpoint, e.g. https://minio.internal:9000; empty means AWS S3 itself.",
        ),
        "BUCKET": Key("str", "", "Bucket holding the media (created beforehand)."),
        "REGION": Key("str", "", "Region of the bucket (e.g. eu-west-1); empty: boto3's default."),
        "ACCESS_KEY_ID": Key(
            "str", "", "Access key id; empty: boto3's own chain (environment, instance role)."
        ),
        "SECRET_ACCESS_KEY": Key("str", "", "Secret access key matching ACCESS_KEY_ID.", secret=True),
        "PREFIX": Key("str", "", "Key prefix of every object (e.g. conexoos/media), to share a bucket."),
        "ADDRESSING_STYLE": Key(
            "choice",
            "auto",
            "path (https://host/bucket/key: most self-hosted stores), virtual (https://bucket.host/key) or "
            "auto.",
            choices=S3_ADDRESSING_STYLES,
        ),
        "CONNECT_TIMEOUT": Key(
            "int", 3, "Seconds to open a connection to the store.", minimum=1, maximum=300
        ),
        "READ_TIMEOUT": Key(
            "int",
            10,
            "Seconds to wait for each answer of the store; a hung store fails a media request with a 503 "
            "within about (CONNECT_TIMEOUT + READ_TIMEOUT) x ATTEMPTS.",
            minimum=1,
            maximum=600,
        ),
        "ATTEMPTS": Key(
            "int", 2, "Attempts of each call, the first included (1: no retry).", minimum=1, maximum=10
        ),
    },
}

COOKIE_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""A cookie name as RFC 6265 allows it (a token): no space, ``;``, ``=`` or quote."""


def cookie_name(value: str) -> str:
    """``value`` when it can name a cookie; ValueError for an empty one or one a browser would misread."""
    if not COOKIE_NAME.fullmatch(value):
        raise ValueError(value)
    return value


def non_empty(value: str) -> str:
    """``value`` unless it is empty (or spaces only)."""
    if not value.strip():
        raise ValueError(value)
    return value


def non_empty_items(values: list[str]) -> list[str]:
    """``values`` unless one of them is empty (or spaces only): an empty former key is as weak as an empty
    ``SECRET_KEY``, which is refused."""
    for value in values:
        non_empty(value)
    return values


COOKIE_DOMAIN = re.compile(
    r"\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
"""A cookie's ``Domain``: a DNS name (or an IPv4 address), a leading dot allowed, as browsers read it."""


def cookie_domain(value: str) -> str:
    """``value`` when it is a host name a cookie's ``Domain`` can hold; ValueError otherwise (``x y``
    would be sent as ``Domain=x y``, which browsers ignore or reject)."""
    if not COOKIE_DOMAIN.fullmatch(value):
        raise ValueError(value)
    return value


def root_path(value: str) -> str:
    """``value`` when it is ``/``: a site is served at the root of its host, never under a path (see
    ``SERVER_ENV.PUBLIC_URL``), so a mount path would only mislead Flask's cookie paths and external URLs."""
    if value != "/":
        raise ValueError(value)
    return value


def rate_limit_storage_uri(value: str) -> str:
    """``value`` when limits has a storage for its scheme (asked of limits' own registry, so a scheme a later
    limits adds is accepted); ValueError otherwise."""
    from .rate_limit_storage import known_storage_uri  # limits loads only when the key is written

    return known_storage_uri(value)


SECONDS = "a whole number of seconds"
MAX_SECONDS = 10 * 365 * 24 * 3600
"""The longest lifetime or cache age a seconds key takes: ten years (315360000 s). Longer is no use to anyone
and breaks things: a datetime past year 9999 (OverflowError at the start or at each login), a cookie or
cache expiry beyond 2**31 seconds (the filesystem session store's struct.error at about 2.5e9)."""
UP_TO_TEN_YEARS = f"up to {MAX_SECONDS} (10 years)"
FLASK_CONFIG_KEYS: Schema = {
    # Flask 3.1's own settings that have a type: a value of another type is accepted by Flask and fails
    # later, in a request (a 500) or silently ("false" is a true value).
    "DEBUG": Key("bool", None, "Flask's debug mode."),
    "TESTING": Key("bool", None, "Flask's testing mode."),
    "PROPAGATE_EXCEPTIONS": Key("bool", None, "Re-raise errors.", nullable=True),
    "TRAP_HTTP_EXCEPTIONS": Key("bool", None, "Do not handle HTTP exceptions."),
    "TRAP_BAD_REQUEST_ERRORS": Key("bool", None, "Do not handle bad request errors.", nullable=True),
    "SECRET_KEY": Key(
        "str", None, "Signs sessions.", secret=True, convert=non_empty, expected="a non-empty string"
    ),
    "SECRET_KEY_FALLBACKS": Key(
        "list",
        None,
        "Former secret keys, none of them empty.",
        secret=True,
        convert=non_empty_items,
        expected="a list of non-empty strings",
    ),
    "SESSION_COOKIE_NAME": Key(
        "str",
        None,
        "The session cookie.",
        convert=cookie_name,
        expected="a cookie name (letters, digits, _-.)",
    ),
    "SESSION_COOKIE_DOMAIN": Key(
        "str",
        None,
        "The session cookie's domain.",
        nullable=True,
        convert=cookie_domain,
        expected="a domain name (e.g. example.org or .example.org), or null",
    ),
    "SESSION_COOKIE_PATH": Key("str", None, "The session cookie's path.", nullable=True),
    "SESSION_COOKIE_HTTPONLY": Key("bool", None, "The session cookie's HttpOnly."),
    "SESSION_COOKIE_SECURE": Key("bool", None, "The session cookie's Secure."),
    "SESSION_COOKIE_PARTITIONED": Key("bool", None, "The session cookie's Partitioned."),
    "SESSION_COOKIE_SAMESITE": Key(
        "choice",
        None,
        "The session cookie's SameSite; None only with a Secure session cookie (UAT, PROD or "
        "SESSION_COOKIE_SECURE: true): browsers drop a SameSite=None cookie that is not Secure.",
        choices=("Lax", "Strict", "None"),
        nullable=True,
    ),
    "PERMANENT_SESSION_LIFETIME": Key(
        "int",
        None,
        "Session lifetime, in seconds, at most ten years (longer overflows the dates sessions are "
        "stored with).",
        minimum=1,
        maximum=MAX_SECONDS,
        expected=f"{SECONDS} above 0, {UP_TO_TEN_YEARS}",
    ),
    "SESSION_REFRESH_EACH_REQUEST": Key("bool", None, "Refresh the session cookie on each request."),
    "USE_X_SENDFILE": Key("bool", None, "Serve files with X-Sendfile."),
    "SEND_FILE_MAX_AGE_DEFAULT": Key(
        "int",
        None,
        "Cache lifetime of sent files, in seconds, at most ten years (past 2**31 seconds caches misread it).",
        minimum=0,
        maximum=MAX_SECONDS,
        nullable=True,
        expected=f"{SECONDS} (0 or more), {UP_TO_TEN_YEARS}, or null",
    ),
    "TRUSTED_HOSTS": Key("list", None, "Host names requests may name.", nullable=True),
    "SERVER_NAME": Key("str", None, "Host and port of the server.", nullable=True),
    "APPLICATION_ROOT": Key(
        "str",
        None,
        "Path the application is mounted at: only / (a site is served at the root of its host, never under "
        "a path).",
        convert=root_path,
        expected="/ (a site is never served under a path)",
    ),
    "PREFERRED_URL_SCHEME": Key("choice", None, "Scheme of external URLs.", choices=("http", "https")),
    "MAX_CONTENT_LENGTH": Key(
        "int",
        None,
        "Largest request body.",
        minimum=0,
        nullable=True,
        expected="a number of bytes (0 or more), or null",
    ),
    "MAX_FORM_MEMORY_SIZE": Key(
        "int",
        None,
        "Largest form field.",
        minimum=0,
        nullable=True,
        expected="a number of bytes (0 or more), or null",
    ),
    "MAX_FORM_PARTS": Key(
        "int",
        None,
        "Most form fields.",
        minimum=0,
        nullable=True,
        expected="a number of parts (0 or more), or null",
    ),
    "TEMPLATES_AUTO_RELOAD": Key("bool", None, "Reload changed templates.", nullable=True),
    "EXPLAIN_TEMPLATE_LOADING": Key("bool", None, "Log how templates are found."),
    "MAX_COOKIE_SIZE": Key("int", None, "Largest cookie.", minimum=0),
    "PROVIDE_AUTOMATIC_OPTIONS": Key("bool", None, "Answer OPTIONS for every route."),
    # Read by the framework and the product (and the extensions the product uses).
    "ANONYMOUS_SESSION_LIFETIME": Key(
        "int",
        None,
        "Anonymous session lifetime, in seconds, at most ten years (longer overflows the dates sessions are "
        "stored with).",
        minimum=1,
        maximum=MAX_SECONDS,
        expected=f"{SECONDS} above 0, {UP_TO_TEN_YEARS}",
    ),
    "JSON_PATH_PREFIXES": Key("list", None, "Paths whose errors are answered in JSON."),
    "WTF_CSRF_FIELD_NAME": Key(
        "str", None, "Form field of the CSRF token.", convert=non_empty, expected="a non-empty string"
    ),
    "WTF_CSRF_HEADERS": Key("list", None, "Headers that may carry the CSRF token."),
    "REMEMBER_COOKIE_NAME": Key(
        "str",
        None,
        "Flask-Login's cookie.",
        convert=cookie_name,
        expected="a cookie name (letters, digits, _-.)",
    ),
    "SESSION_PROTECTION": Key(
        "choice", None, "Flask-Login's session protection.", choices=("basic", "strong"), nullable=True
    ),
    "RATELIMIT_ENABLED": Key("bool", None, "Flask-Limiter on or off."),
    "RATELIMIT_STORAGE_URI": Key(
        "str",
        None,
        "Flask-Limiter's storage, a URI whose scheme the installed limits package supports (not its "
        "asyncio storages, `async+...`).",
        convert=rate_limit_storage_uri,
        expected="a storage URI of a scheme limits supports, e.g. memory:// or redis://cache.internal:6379 "
        "(not async+...: Flask-Limiter cannot use limits' asyncio storages)",
    ),
}
"""The ``FLASK.CONFIG`` keys whose value is checked (and converted: ``"false"`` is false) with the rest of the
configuration: Flask's own settings that have a type, and those the framework and the product read. Any other
key is handed to Flask as written."""

FLASK: Schema = {
    "CONFIG": Key(
        "dict",
        {},
        "Handed to Flask's config last, so any Flask or extension setting can be overridden here. The value "
        "of each of these keys is checked against its type with the rest of the configuration (a wrong one "
        "is a config error; true/false keys read yes/no, numbers may be quoted): "
        + ", ".join(FLASK_CONFIG_KEYS)
        + ".",
    ),
}

TOP_LEVEL = ("SERVER_ENV", "DATABASE", "FLASK", "SERVICES", "APP", "LOGINS")
PROJECT_SECTIONS = ("APP", "SERVICES", "FLASK")
"""Where a project may declare keys of its own (``SCHEMA`` in its ``server/config.py``); under ``FLASK``, only
``CONFIG`` keys, the values of Flask or extension settings its pages rely on."""
SECRET_WORDS = (
    "PASSWORD",
    "PASSWD",
    "PWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APPKEY",
    "APIKEY",
    "PRIVATEKEY",
    "PRIVKEY",
    "WEBHOOK",
    "CREDENTIAL",
    "SALT",
    "SIGNING",
    "HMAC",
    "BEARER",
    "DSN",
    "COOKIEVALUE",
)
"""Words that mark a secret in a key's name, written without ``_`` or ``-`` (``private-key``, ``privateKey``
and ``PRIVATE_KEY`` are one name)."""
_SECRET_SUFFIX = re.compile(r"(?:KEY|(?<=[a-z0-9])Sk|_SK)$")
"""A name ending in a key (``signingKey``, ``STRIPE_KEY``), or a Stripe-style secret key (``stripeSk``)."""
_AUTH = re.compile(r"AUTH(?!OR(?!IZ))")
"""AUTH, AUTH_HEADER, AUTHORIZATION, OAUTH_... but not AUTHOR or AUTHORITY."""


def is_secret_name(name: str) -> bool:
    """Tell whether a free-form key name (e.g. under SERVICES) looks like it holds a secret."""
    upper = name.upper()
    joined = upper.replace("_", "").replace("-", "")
    if any(word in joined for word in SECRET_WORDS) or _AUTH.search(upper):
        return True
    return bool(_SECRET_SUFFIX.search(name) or _SECRET_SUFFIX.search(upper))
