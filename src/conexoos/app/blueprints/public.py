"""What visitors see: the home page, public pages, and the click redirect."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template
from werkzeug.wrappers import Response

from conexoos.app.controllers import analytics, profiles
from conexoos.app.models.persistent.event import BUY
from conexoos.app.plans_config import format_money

public = Blueprint("public", __name__)


@public.route("/", methods=["GET"])
def home() -> str:
    """The landing page."""
    return render_template("home.html")


@public.route("/<username>", methods=["GET"])
def profile(username: str) -> str:
    """A user's public page; 404 for an unknown user."""
    page = profiles.public_page(username)
    analytics.record_view(page.user.id)
    return render_template("public/profile.html", page=page, page_url=profiles.page_url(page.user),
                           format_money=format_money)


@public.route("/go/<int:link_id>", methods=["GET"])
def go(link_id: int) -> Response:
    """Record a click and redirect (302) to the link's URL; 404 unless the link is live."""
    link = profiles.live_link(link_id)
    analytics.record_click(link.owner_id, link.id)
    return _redirect(link.url)


@public.route("/go/product/<int:product_id>", methods=["GET"])
def buy(product_id: int) -> Response:
    """Record a product click and redirect (302) to its buy URL; 404 unless the product is shown."""
    product = profiles.live_product(product_id)
    pass
    return _redirect(product.buy_url)


def _redirect(url: str) -> Response:
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response
