"""Build the brand-icon sprite of public pages from Simple Icons (CC0, the npm package pinned in
``tools/icons/package.json``).

Writes three files, all committed:

- ``src/conexoos/app/static/img/icons.svg``: one ``<symbol id="si-<network>">`` per network below, plus
  the product's own ``cx-`` symbols (lock, generic link), referenced as ``<svg><use href="...#si-x">``;
- ``src/conexoos/app/static/img/SIMPLE_ICONS_LICENSE.md``: Simple Icons' licence and disclaimer, with the
  version used;
- ``src/conexoos/app/utils/icon_networks.py``: network -> display name, symbol id and domains, for
  :mod:`conexoos.app.utils.link_icons` and :mod:`conexoos.app.utils.social_urls`.

Run ``python scripts/build_icon_sprite.py`` (it runs ``npm ci`` in ``tools/icons`` first when the package
is not installed); ``--check`` exits 1 when a committed file differs from what it would write.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools" / "icons"
PACKAGE = TOOLS / "node_modules" / "simple-icons"
APP = ROOT / "src" / "conexoos" / "app"
SPRITE = APP / "static" / "img" / "icons.svg"
LICENCE = APP / "static" / "img" / "SIMPLE_ICONS_LICENSE.md"
MAPPING = APP / "utils" / "icon_networks.py"
SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class Network:
    """A network of the sprite: its key, its Simple Icons slug ("" when the set has no icon for it), and
    the domains whose links get its icon (a subdomain of one matches too)."""

    key: str
    slug: str
    domains: tuple[str, ...]
    name: str = ""
    """The display name when Simple Icons has none for it (no slug)."""


NETWORKS = (
    Network("instagram", "instagram", ("instagram.com", "instagr.am")),
    Network("tiktok", "tiktok", ("tiktok.com",)),
    Network("youtube", "youtube", ("youtube.com", "youtu.be", "youtube-nocookie.com")),
    Network("x", "x", ("x.com", "twitter.com")),
    Network("facebook", "facebook", ("facebook.com", "fb.com", "fb.me")),
    # LinkedIn asked Simple Icons to remove its logo: the page shows the generic link icon for it.
    Network("linkedin", "", ("linkedin.com", "lnkd.in"), name="LinkedIn"),
    Network("github", "github", ("github.com",)),
    Network("gitlab", "gitlab", ("gitlab.com",)),
    Network("spotify", "spotify", ("spotify.com", "spotify.link")),
    Network("soundcloud", "soundcloud", ("soundcloud.com",)),
    Network("applemusic", "applemusic", ("music.apple.com",)),
    Network("bandcamp", "bandcamp", ("bandcamp.com",)),
    Network("deezer", "deezer", ("deezer.com",)),
    Network("tidal", "tidal", ("tidal.com",)),
    Network("audiomack", "audiomack", ("audiomack.com",)),
    Network("beatport", "beatport", ("beatport.com",)),
    Network("twitch", "twitch", ("twitch.tv",)),
    Network("kick", "kick", ("kick.com",)),
    Network("vimeo", "vimeo", ("vimeo.com",)),
    Network("discord", "discord", ("discord.gg", "discord.com")),
    Network("telegram", "telegram", ("t.me", "telegram.me", "telegram.org")),
    Network("whatsapp", "whatsapp", ("wa.me", "whatsapp.com")),
    Network("signal", "signal", ("signal.me", "signal.group", "signal.org")),
    Network("line", "line", ("line.me",)),
    Network("snapchat", "snapchat", ("snapchat.com",)),
    Network("pinterest", "pinterest", ("pinterest.com", "pin.it")),
    Network("reddit", "reddit", ("reddit.com", "redd.it")),
    Network("tumblr", "tumblr", ("tumblr.com",)),
    Network("mastodon", "mastodon", ("mastodon.social", "mastodon.online", "mstdn.social")),
    Network("bluesky", "bluesky", ("bsky.app",)),
    Network("threads", "threads", ("threads.net", "threads.com")),
    Network("vk", "vk", ("vk.com",)),
    Network("bilibili", "bilibili", ("bilibili.com", "b23.tv")),
    Network("patreon", "patreon", ("patreon.com",)),
    Network("kofi", "kofi", ("ko-fi.com",)),
    Network("buymeacoffee", "buymeacoffee", ("buymeacoffee.com",)),
    Network("onlyfans", "onlyfans", ("onlyfans.com",)),
    Network("cashapp", "cashapp", ("cash.app",)),
    Network("paypal", "paypal", ("paypal.me", "paypal.com")),
    Network("venmo", "venmo", ("venmo.com",)),
    Network("gumroad", "gumroad", ("gumroad.com",)),
    Network("substack", "substack", ("substack.com",)),
    Network("medium", "medium", ("medium.com",)),
    Network("behance", "behance", ("behance.net",)),
    Network("dribbble", "dribbble", ("dribbble.com",)),
    Network("artstation", "artstation", ("artstation.com",)),
    Network("deviantart", "deviantart", ("deviantart.com",)),
    Network("flickr", "flickr", ("flickr.com", "flic.kr")),
    Network("unsplash", "unsplash", ("unsplash.com",)),
    Network("vsco", "vsco", ("vsco.co",)),
    Network("etsy", "etsy", ("etsy.com", "etsy.me")),
    Network("shopify", "shopify", ("shopify.com", "myshopify.com")),
    Network("ebay", "ebay", ("ebay.com",)),
    Network("steam", "steam", ("steamcommunity.com", "steampowered.com")),
    Network("playstation", "playstation", ("playstation.com",)),
    Network("letterboxd", "letterboxd", ("letterboxd.com", "boxd.it")),
    Network("goodreads", "goodreads", ("goodreads.com",)),
    Network("imdb", "imdb", ("imdb.com",)),
    Network("strava", "strava", ("strava.com",)),
    Network("producthunt", "producthunt", ("producthunt.com",)),
    Network("stackoverflow", "stackoverflow", ("stackoverflow.com",)),
    Network("linktree", "linktree", ("linktr.ee",)),
    Network("calendly", "calendly", ("calendly.com",)),
)
OWN_SYMBOLS = {
    # Drawn for Conexoos (not Simple Icons), on the same 24x24 grid.
    "cx-lock": "M6 10V7a6 6 0 0 1 12 0v3h1.5v13h-15V10zm2.5 0h7V7a3.5 3.5 0 0 0-7 0z",
    "cx-link": (
        "M10.6 13.4a1 1 0 0 1 0-1.4l3.9-3.9a3 3 0 0 1 4.2 4.2l-2.5 2.5-1.4-1.4 2.5-2.5a1 1 0 0 0-1.4-1.4"
        "l-3.9 3.9a1 1 0 0 1-1.4 0zM13.4 10.6a1 1 0 0 1 0 1.4l-3.9 3.9a3 3 0 0 1-4.2-4.2l2.5-2.5 1.4 1.4"
        "-2.5 2.5a1 1 0 0 0 1.4 1.4l3.9-3.9a1 1 0 0 1 1.4 0z"
    ),
}


def main() -> int:
    """Write (or with ``--check`` compare) the sprite, the licence and the mapping; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files, write nothing"
    )
    arguments = parser.parse_args()
    if not PACKAGE.is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TOOLS, check=True)
    outputs = build()
    stale = [path for path, text in outputs.items() if not path.is_file() or path.read_text("utf-8") != text]
    if arguments.check:
        for path in stale:
            print(
                f"{path.relative_to(ROOT)} is not what scripts/build_icon_sprite.py writes", file=sys.stderr
            )
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    print(f"{len(NETWORKS)} networks, {SPRITE.stat().st_size} bytes in {SPRITE.relative_to(ROOT)}")
    return 0


def build() -> dict[Path, str]:
    """The three files' contents from the installed package."""
    version = json.loads((PACKAGE / "package.json").read_text("utf-8"))["version"]
    titles = {
        icon["slug"]: icon for icon in json.loads((PACKAGE / "data" / "simple-icons.json").read_text("utf-8"))
    }
    symbols = [symbol(f"si-{network.key}", *icon_path(network.slug)) for network in NETWORKS if network.slug]
    symbols += [symbol(name, "0 0 24 24", path) for name, path in OWN_SYMBOLS.items()]
    sprite = (
        f'<svg xmlns="{SVG_NS}">\n<!-- Simple Icons {version} (CC0, see SIMPLE_ICONS_LICENSE.md) and '
        "Conexoos; generated by scripts/build_icon_sprite.py -->\n" + "\n".join(symbols) + "\n</svg>\n"
    )
    return {SPRITE: sprite, LICENCE: licence(version, titles), MAPPING: mapping(version, titles)}


def icon_path(slug: str) -> tuple[str, str]:
    """The viewBox and the single path of Simple Icons' ``slug``."""
    root = ElementTree.fromstring((PACKAGE / "icons" / f"{slug}.svg").read_text("utf-8"))
    paths = root.findall(f"{{{SVG_NS}}}path")
    if len(paths) != 1:
        raise SystemExit(f"simple-icons' {slug}.svg has {len(paths)} paths; expected 1")
    return root.attrib["viewBox"], paths[0].attrib["d"]


def symbol(symbol_id: str, view_box: str, path: str) -> str:
    """One ``<symbol>`` of the sprite."""
    if not re.fullmatch(r"[-0-9. ]+", view_box) or not re.fullmatch(r"[-0-9.a-zA-Z ,]+", path):
        raise SystemExit(f"{symbol_id}: unexpected characters in its SVG")
    return f'<symbol id="{symbol_id}" viewBox="{view_box}"><path d="{path}"/></symbol>'


def display_name(network: Network, titles: dict[str, dict[str, object]]) -> str:
    """Simple Icons' title of the network's icon, or the network's own name."""
    return str(titles[network.slug]["title"]) if network.slug else network.name


def licence(version: str, titles: dict[str, dict[str, object]]) -> str:
    """Simple Icons' licence and disclaimer, and which icons of the sprite carry a licence of their own."""
    own = [
        f"- {display_name(n, titles)}: {titles[n.slug]['license']}"
        for n in NETWORKS
        if n.slug and "license" in titles[n.slug]
    ]
    notes = "\n".join(own) if own else "None: every icon of the sprite is under CC0."
    return (
        f"# Brand icons: Simple Icons {version}\n\n"
        "`icons.svg` holds icons of Simple Icons (https://simpleicons.org, npm package `simple-icons`), "
        "selected by `scripts/build_icon_sprite.py`. The `cx-` symbols are Conexoos' own.\n\n"
        f"Icons of the sprite with a licence of their own:\n\n{notes}\n\n"
        "Brand names and logos are trademarks of their owners; see the disclaimer below.\n\n"
        + (PACKAGE / "DISCLAIMER.md").read_text("utf-8")
        + "\n\n"
        + (PACKAGE / "LICENSE.md").read_text("utf-8")
    )


def mapping(version: str, titles: dict[str, dict[str, object]]) -> str:
    """The Python module that names every network, its symbol and its domains."""
    rows = []
    for network in NETWORKS:
        symbol_id = f"si-{network.key}" if network.slug else "cx-link"
        name = display_name(network, titles)
        domains = ", ".join(json.dumps(domain) for domain in network.domains) + (
            "," if len(network.domains) == 1 else ""
        )
        rows.append(
            f"    {json.dumps(network.key)}: IconNetwork(\n        key={json.dumps(network.key)},\n"
            f"        name={json.dumps(name)},\n        symbol={json.dumps(symbol_id)},\n"
            f"        domains=({domains}),\n    ),"
        )
    return (
        f'"""Brand networks of the icon sprite (``static/img/icons.svg``, Simple Icons {version}).\n\n'
        'Generated by ``scripts/build_icon_sprite.py``: edit its table and run it, never this file."""\n\n'
        "from __future__ import annotations\n\n"
        "from dataclasses import dataclass\n\n\n"
        "@dataclass(frozen=True)\n"
        "class IconNetwork:\n"
        '    """A network: its key, display name, sprite symbol id and the domains of its links."""\n\n'
        "    key: str\n    name: str\n    symbol: str\n    domains: tuple[str, ...]\n\n\n"
        "NETWORKS: dict[str, IconNetwork] = {\n" + "\n".join(rows) + "\n}\n"
    )


if __name__ == "__main__":
    sys.exit(main())
