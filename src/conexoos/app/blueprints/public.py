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
    # Render before recording: the view's commit expires the loaded rows, and reading them again
    # afterwards would cost one query per link.
    html = render_template(
        "public/profile.html", page=page, page_url=profiles.page_url(page.user), format_money=format_money
    )
    analytics.record_view(page.user.id)
    return html


@public.route("/go/<id:link_id>", methods=["GET"])
def go(link_id: int) -> Response:
    """Record a click and redirect (302) to the link's URL; 404 unless the link is live."""
    link = profiles.live_link(link_id)
    target, owner_id = link.url, link.owner_id  # read before the click's commit expires the row
    analytics.record_click(owner_id, link_id)
    return _redirect(target)


@public.route("/go/product/<id:product_id>", methods=["GET"])
def buy(product_id: int) -> Response:
    """Record a product click and redirect (302) to its buy URL; 404 unless the product is shown."""
    product = profiles.live_product(product_id)
    target, owner_id = product.buy_url, product.owner_id  # read before the click's commit expires the row
    analytics.record_click(owner_id, product_id, kind=BUY)
    return _redirect(target)


def _redirect(url: str) -> Response:
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response
