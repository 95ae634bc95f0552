"""The products page of the dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from conexoos.app.controllers import plan_messages, plans
from conexoos.app.controllers.blocks.product import PRODUCT

products_page = Blueprint("products_page", __name__)


@products_page.route("/dashboard/products", methods=["GET"])
@login_required
def index() -> str:
    """The products editor (works through the JSON API)."""
    plan = plans.plan_for(current_user)
    return render_template("dashboard/products.html", plan=plan, notes=plan_messages.notes(plan, PRODUCT))
