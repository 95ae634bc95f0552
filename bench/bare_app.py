"""The baseline of ``bench/public_page.py``: a bare Flask 3 + SQLAlchemy 2 app serving the same public page
and the same click redirect as Conexoos, with nothing else (no sessions, login, CSRF, rate limits,
security headers beyond what the page needs, access log).

Serve it with gunicorn: ``BARE_DATABASE_URL=sqlite:///bench.db gunicorn bench.bare_app:app``. Its tables
(``bare_*``) live beside the product's in the same database; :func:`seed` fills them with the same data.

The work per request is the product's, written plainly:
- ``GET /<username>``: two queries (the user joined to its live links; its enabled products), the same
  HTML, then one insert of the view (the product records every view);
- ``GET /go/<id>``: one query (the link joined to its owner), one insert of the click, a 302.

SQLite gets the product's settings (WAL, ``synchronous=NORMAL``), so both apps pay the same per commit.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, request
from jinja2 import Environment
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "default-src 'self'; object-src 'none'; frame-ancestors 'none'"


class Base(DeclarativeBase):
    """The bare app's tables."""


class BareUser(Base):
    """A page owner."""

    __tablename__ = "bare_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    bio: Mapped[str] = mapped_column(String(300), default="")


class BareLink(Base):
    """A link on a page."""

    __tablename__ = "bare_link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("bare_user.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    order_index: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class BareProduct(Base):
    """A product on a page."""

    __tablename__ = "bare_product"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("bare_user.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    price: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    order_index: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class BareEvent(Base):
    """A recorded view or click."""

    __tablename__ = "bare_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    link_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    referrer_host: Mapped[str] = mapped_column(String(255), default="")
    visitor_hash: Mapped[str] = mapped_column(String(32), default="")


PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ name }} · Bare</title>
  <meta name="description" content="{{ description }}">
  <link rel="canonical" href="{{ page_url }}">
  <meta property="og:type" content="profile">
  <meta property="og:title" content="{{ name }}">
  <meta property="og:description" content="{{ description }}">
  <meta property="og:url" content="{{ page_url }}">
  <meta property="og:image" content="{{ base }}/static/img/default_avatar.svg">
  <meta property="profile:username" content="{{ user.username }}">
  <meta name="twitter:card" content="summary">
  <meta name="twitter:title" content="{{ name }}">
  <meta name="twitter:description" content="{{ description }}">
  <meta name="twitter:image" content="{{ base }}/static/img/default_avatar.svg">
  <link rel="stylesheet" href="/static/css/public.css">
</head>
<body class="theme-default">
  <main class="page">
    <header class="profile">
      <img class="avatar" src="{{ base }}/static/img/default_avatar.svg" alt="" width="96" height="96">
      <h1>{{ name }}</h1>
      <p class="handle">@{{ user.username }}</p>
      {% if user.bio %}<p class="bio">{{ user.bio }}</p>{% endif %}
    </header>
    <ul class="links">
      {% for link in links %}
      <li><a class="link" href="/go/{{ link.id }}" rel="nofollow noopener">{{ link.title }}</a></li>
      {% endfor %}
    </ul>
    {% if products %}
    <section class="products" aria-label="Products">
      {% for product in products %}
      <a class="product" href="/go/product/{{ product.id }}" rel="nofollow noopener">
        <img src="/static/img/default_product.jpg" alt="" width="300" height="300" loading="lazy">
        <span class="product-title">{{ product.title }}</span>
        {% if product.description %}
        <span class="product-description">{{ product.description }}</span>{% endif %}
        <span class="price">{{ "%.2f"|format(product.price / 100) }} {{ product.currency }}</span>
      </a>
      {% endfor %}
    </section>
    {% endif %}
    <footer><a href="/">Made with Bare</a>
      · <a class="report" href="/report/{{ user.username }}" rel="nofollow">Report</a></footer>
  </main>
</body>
</html>
"""
)


def create_bare_app(url: str) -> Flask:
    """The bare app on the database at ``url``."""
    app = Flask(__name__)
    engine = (
        create_engine(url, pool_size=10, max_overflow=10)
        if url.startswith("postgresql")
        else create_engine(url)
    )
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    sessions = scoped_session(sessionmaker(engine, expire_on_commit=False))
    base = "http://bench.invalid"

    @app.teardown_appcontext
    def _close(_error: BaseException | None) -> None:
        sessions.remove()

    @app.get("/<username>")
    def profile(username: str) -> Response:
        rows = sessions.execute(
            select(BareUser, BareLink)
            .outerjoin(BareLink, (BareLink.owner_id == BareUser.id) & BareLink.enabled.is_(True))
            .where(BareUser.username == username.lower())
            .order_by(BareLink.order_index, BareLink.id)
        ).all()
        if not rows:
            abort(404)
        user = rows[0][0]
        products = sessions.scalars(
            select(BareProduct)
            .where(BareProduct.owner_id == user.id, BareProduct.enabled.is_(True))
            .order_by(BareProduct.order_index, BareProduct.id)
        ).all()
        name = user.display_name or user.username
        html = PAGE.render(
            user=user,
            name=name,
            description=user.bio or f"Links from {name}",
            links=[link for _, link in rows if link is not None],
            products=products,
            page_url=f"{base}/{user.username}",
            base=base,
        )
        _record(sessions, user.id, None, "view")
        return _secured(Response(html, mimetype="text/html"))

    @app.get("/go/<int:link_id>")
    def go(link_id: int) -> Response:
        row = sessions.execute(
            select(BareLink.url, BareLink.owner_id)
            .join(BareUser, BareUser.id == BareLink.owner_id)  # as the product checks the owner too
            .where(BareLink.id == link_id, BareLink.enabled.is_(True))
        ).first()
        if row is None:
            abort(404)
        _record(sessions, row.owner_id, link_id, "click")
        response = redirect(row.url, code=302)
        response.headers["Cache-Control"] = "no-store"
        return _secured(response)

    return app


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """The product's SQLite settings (WAL, no fsync per commit, wait for the lock): both apps write alike."""
    cursor = connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _record(sessions: scoped_session, owner_id: int, link_id: int | None, kind: str) -> None:
    """Insert the event and commit."""
    now = datetime.now(UTC)
    visitor = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}|{now.date()}"
    sessions.add(
        BareEvent(
            owner_id=owner_id,
            link_id=link_id,
            kind=kind,
            occurred_at=now,
            referrer_host=urlsplit(request.headers.get("Referer", "")).hostname or "",
            visitor_hash=hashlib.sha256(visitor.encode()).hexdigest()[:32],
        )
    )
    sessions.commit()


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def seed(url: str, username: str, links: int, products: int) -> list[int]:
    """Create the bare tables at ``url`` (dropping old ones) with one user; return her link ids."""
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        user = BareUser(username=username, display_name="Maya Bench", bio="Things I make and like.")
        session.add(user)
        session.flush()
        for index in range(links):
            session.add(
                BareLink(
                    owner_id=user.id,
                    title=f"Link {index}",
                    url=f"https://example.com/{index}",
                    order_index=index,
                )
            )
        for index in range(products):
            session.add(
                BareProduct(
                    owner_id=user.id,
                    title=f"Product {index}",
                    description="A thing.",
                    price=1500,
                    currency="EUR",
                    order_index=index,
                )
            )
        session.commit()
        ids = list(session.scalars(select(BareLink.id).order_by(BareLink.id)))
    engine.dispose()
    return ids


app = create_bare_app(os.environ["BARE_DATABASE_URL"]) if "BARE_DATABASE_URL" in os.environ else None
