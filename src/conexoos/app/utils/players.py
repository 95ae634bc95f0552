"""Which provider plays a URL, and at which player address: YouTube, Vimeo, Spotify and SoundCloud (the
embed block's players, ``controllers/blocks/embed.py``; the Content-Security-Policy's ``frame-src``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qs, quote, urlsplit

PLAYER_HOSTS = (
    "https://www.youtube-nocookie.com",
    "https://player.vimeo.com",
    "https://open.spotify.com",
    "https://w.soundcloud.com",
)
"""The only hosts a player frame may come from (the CSP's ``frame-src``)."""
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
YOUTUBE_PLAYER_PATH = re.compile(r"^/(?:shorts|embed|live|v|e|watch)/")
"""YouTube's paths before a video's id, besides ``/watch?v=``: shorts, players (old ``/v/`` and ``/e/``
included) and live streams."""
SPOTIFY_PATH = re.compile(
    r"^/(?:intl-[a-z-]+/)?(track|album|playlist|episode|show|artist)/([A-Za-z0-9]{22})$"
)
VIMEO_PATH = re.compile(r"/(\d{1,12})(?:/([0-9a-f]{1,32}))?")
VIMEO_PLAYER_PATH = re.compile(r"/video/(\d{1,12})")
VIMEO_HASH = re.compile(r"[0-9a-f]{1,32}")
"""The hash that opens an unlisted Vimeo video (``vimeo.com/76979871/abcdef1234``)."""
SOUNDCLOUD_PATH = re.compile(r"^/[A-Za-z0-9_-]+/(?:sets/)?[A-Za-z0-9_-]+$")


START_TIME = re.compile(r"(?:(\d{1,3})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s?)?")
"""A start time as providers write it: ``90``, ``90s``, ``1m30s``, ``1h2m3s``."""
START_MAX = 7 * 24 * 3600
"""The latest start a player is asked for (longer than any video or live stream the providers keep)."""


@dataclass(frozen=True)
class Player:
    """What a recognised URL plays: the provider's name and the address of its player frame."""

    provider: str
    player_url: str


def recognise(url: str) -> Player | None:
    """The player of a YouTube, Vimeo, Spotify or SoundCloud URL (starting where the URL's ``t=`` or
    ``start=`` says); None for any other URL, one with a port of its own included."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "https://[abc": no URL at all
        return None
    if parts.scheme != "https" or named_port(url):
        return None
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    path = parts.path.rstrip("/")
    if host in ("youtube.com", "youtu.be"):
        video = _youtube_id(host, path, parts.query)
        if video:
            seconds = start_seconds(parts, "t", "start")
            start = f"start={seconds}&" if seconds else ""
            return Player("YouTube", f"https://www.youtube-nocookie.com/embed/{video}?{start}autoplay=1")
    elif video := _vimeo_video(host, path, parts.query):
        seconds = start_seconds(parts, "t")
        start = f"#t={seconds}s" if seconds else ""
        return Player("Vimeo", f"https://player.vimeo.com/video/{video}dnt=1&autoplay=1{start}")
    elif host == "open.spotify.com" and (match := SPOTIFY_PATH.match(path)):
        return Player("Spotify", f"https://open.spotify.com/embed/{match[1]}/{match[2]}")
    elif host == "soundcloud.com" and SOUNDCLOUD_PATH.match(path):
        track = quote(f"https://soundcloud.com{path}", safe="")
        return Player("SoundCloud", f"https://w.soundcloud.com/player/?url={track}&auto_play=true")
    return None


def named_port(url: str) -> str:
    """The port ``url`` names besides https's own (``"8443"``; ``"?"`` for one that is no number), or ""."""
    try:
        port = urlsplit(url).port
    except ValueError:
        return "?"
    return str(port) if port not in (None, 443) else ""


def start_seconds(parts: SplitResult, *names: str) -> int:
    """The start time the URL's query or fragment gives under one of ``names`` (``t=1m30s``), in seconds;
    0 when none is given or it is no time."""
    for source in (parts.query, parts.fragment):
        values = parse_qs(source)
        for name in names:
            for value in values.get(name, []):
                match = START_TIME.fullmatch(value.strip())
                if match and value.strip():
                    hours, minutes, seconds = (int(part or 0) for part in match.groups())
                    return min(hours * 3600 + minutes * 60 + seconds, START_MAX)
    return 0


def _vimeo_video(host: str, path: str, query: str) -> str | None:
    """``<id>?`` of a Vimeo video, or ``<id>?h=<hash>&`` of an unlisted one (``vimeo.com/<id>/<hash>`` or
    ``player.vimeo.com/video/<id>?h=<hash>``: the player needs the hash); None for any other address."""
    if host == "vimeo.com":
        match = VIMEO_PATH.fullmatch(path)
        video, unlisted = (match[1], match[2]) if match else ("", None)
    elif host == "player.vimeo.com" and (match := VIMEO_PLAYER_PATH.fullmatch(path)):
        hashes = parse_qs(query).get("h")
        video, unlisted = match[1], (hashes[0] if hashes else None)
    else:
        return None
    if not video or (unlisted is not None and not VIMEO_HASH.fullmatch(unlisted)):
        return None
    return f"{video}?h={unlisted}&" if unlisted else f"{video}?"


def _youtube_id(host: str, path: str, query: str) -> str | None:
    if host == "youtu.be":
        candidate = path.removeprefix("/")
    elif path == "/watch":
        candidate = (parse_qs(query).get("v") or [""])[0]
    else:
        candidate = YOUTUBE_PLAYER_PATH.sub("", path) if YOUTUBE_PLAYER_PATH.match(path) else ""
        candidate = candidate.split("&", 1)[0]  # the old players' /v/<id>&hl=en: parameters in the path
    return candidate if YOUTUBE_ID.match(candidate) else None


def upgraded(url: str) -> str:
    """An ``http://`` address of a provider's video or track as ``https://`` (they all serve it); any
    other URL as it is."""
    if not url.lower().startswith("http://"):
        return url
    secure = "https://" + url[len("http://") :]
    return secure if not named_port(secure) and recognise(secure) else url
