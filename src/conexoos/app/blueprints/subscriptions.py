"""Plans: the subscriptions page, Stripe Checkout and portal, and the Stripe webhook."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.controllers import billing, plan_messages, plans
from conexoos.app.dto.errors import InputError, malformed
from conexoos.app.extensions import csrf
from conexoos.app.plans_config import FREE_PLAN, Plan
from conexoos.framework import wants_json

from .api_support import api_login_required, json_body, page_login_required, user

subscriptions = Blueprint("subscriptions", __name__)
FORM_WORDING = {
    "required": "Choose a plan.",
    "unknown_plan": "That plan is not offered here: choose one of the plans on this page.",
}
"""What a refused form says, by the refusal's code, where the API's field-level message is no sentence for
people (a hand-made post without a plan: "plan_id is required"; with a plan id the site has not: the
API's message lists every plan's id, also one that cannot be bought here)."""
PAID_CHECKOUT = "paid_checkout"
"""The session's key holding the checkout Stripe confirmed as paid for this browser, so that the page's
checks while the webhook is awaited do not ask Stripe each time."""
CHECKOUT_STARTED = "checkout_started"
"""The session's key holding the paid plan whose checkout this browser was sent to: back on the checkout's
cancel URL (``?canceled=true``), "Checkout canceled" is said once, and only then."""


@subscriptions.route("/subscriptions", methods=["GET"])
@login_required
def index() -> str:
    """The plans with their limits and prices, the current plan, and upgrade/downgrade buttons."""
    return _plans_page()


def _plans_page() -> str:
    current = plans.plan_for(current_user)
    offers = [(plan, billing.plan_available(plan)) for plan in plans.all_plans().values()]
    return render_template(
        "subscriptions/index.html",
        current=current,
        offers=offers,
        can_cancel=billing.can_cancel(current_user),
        paid_subscription=billing.has_paid_subscription(current_user),
        keeps_until_period_end=billing.cancels_at_period_end(current_user),
        stops_at_period_end=plan_messages.stops_at_period_end(current_user),
        still_billing=_still_billing(),
        ending=plan_messages.plan_ending(current_user),
        ended=plan_messages.plan_ended(current_user),
        plan_ends_on=_plan_ends_on(),
        checkout_return=_checkout_return(current),
        canceled=_checkout_canceled(),
        on_sale=plan_messages.on_sale(),
        cannot_buy=plan_messages.CANNOT_BUY,
        payment_failed=plan_messages.payment_failed(current_user),
        unavailable=plan_messages.unavailable,
    )


def _checkout_return(current: Plan) -> str | None:
    """What the page says back from Stripe Checkout (its success URL, a GET anyone could make): "active"
    when the paid plan is the account's, "pending" when Stripe has this account's checkout as paid and
    the webhook has not arrived yet, else nothing."""
    if request.args.get("success") != "true":
        return None
    if not current.is_free:
        return "active"
    session_id = request.args.get("session_id", "")
    if not session_id:
        return None
    if session.get(PAID_CHECKOUT) != session_id:
        if not billing.checkout_paid(current_user._get_current_object(), session_id):
            return None
        session[PAID_CHECKOUT] = session_id
    return "pending"


def _checkout_canceled() -> bool:
    """Whether the page is the checkout's cancel URL, back from a checkout this browser started (the
    marker is spent: a reload, or the same address made by hand, says nothing)."""
    if request.args.get("canceled") != "true":
        return False
    return session.pop(CHECKOUT_STARTED, None) is not None


def _started(plan_id: str, url: str) -> str:
    """``url`` to go on to, marking a paid plan's checkout as started by this browser."""
    if not plans.all_plans()[plan_id].is_free:
        session[CHECKOUT_STARTED] = plan_id
    return url


@subscriptions.route("/subscriptions/checkout", methods=["POST"])
@api_login_required
def checkout() -> Response:
    """``plan_id`` (a form field, or a JSON object's key like every other API call): gratis at once, a
    paid plan through Stripe; answers ``{"redirect_url"}``."""
    plan_id = _plan_id()
    return jsonify({"redirect_url": _started(plan_id, billing.start_checkout(user(), plan_id))})


@subscriptions.route("/subscriptions/choose", methods=["POST"])
@page_login_required
def choose() -> str | Response | BaseResponse:
    """A plan's button (the plans page's form, CSRF-checked: no JavaScript needed). The free plan is set
    at once, and the plans page says so; a paid plan answers a page that moves on to Stripe Checkout by
    itself (``{"redirect_url"}`` for JSON, which the page's script uses). When the plan cannot be chosen,
    the plans page with the reason (:func:`_refused`)."""
    plan_id = _plan_id()
    try:
        url = _started(plan_id, billing.start_checkout(current_user._get_current_object(), plan_id))
    except (HTTPException, InputError) as refused:  # InputError: a plan the site no longer offers
        return _refused(refused, "subscriptions.index")
    free = plans.all_plans()[plan_id].is_free
    if free:
        _say_free_plan()
    if wants_json():
        return jsonify({"redirect_url": url})
    if free:
        return redirect(url)
    return render_template(
        "subscriptions/leaving.html",
        url=url,
        heading="Opening the checkout",
        about="Your browser now goes on to the payment provider's checkout, where you pay for the plan. "
        "Your plan changes once the payment is confirmed.",
        link_label="Continue to the checkout",
        link_id="checkout-link",
    )


def _plan_id() -> str:
    """The chosen plan's id from the form or the JSON body; a JSON body that is no object, or whose
    ``plan_id`` is no string, is refused saying so."""
    if not request.is_json:
        return (request.form.get("plan_id") or "").strip()
    body = json_body()
    if not isinstance(body, dict):
        raise malformed('the request body must be a JSON object such as {"plan_id": "gratis"}')
    plan_id = body.get("plan_id", "")
    if not isinstance(plan_id, str):
        raise InputError("plan_id must be a string: a plan's id", field="plan_id", code="invalid_type")
    return plan_id.strip()


@subscriptions.route("/subscriptions/cancel", methods=["GET"])
@login_required
def confirm_cancel() -> str | BaseResponse:
    """Ask before cancelling the subscription (a plain form: no JavaScript needed), saying what is kept
    until when; the plans page when there is nothing to cancel (none, or one in good standing already set
    to end, as stored or as Stripe answers when it is asked for a period's end not stored yet)."""
    billing.learn_period_end(current_user._get_current_object())
    if not billing.can_cancel(current_user):
        return redirect(url_for("subscriptions.index"))
    return _cancel_page()


@subscriptions.route("/subscriptions/cancel", methods=["POST"])
@page_login_required
def cancel() -> BaseResponse:
    """Cancel the subscription at Stripe (the confirmation's form, CSRF-checked): at the end of the period
    paid for when it is in good standing, else at once and to the free plan (also one set to end: past
    due, it has nothing paid to keep); when it cannot be done, the confirmation again with the reason
    (:func:`_refused`)."""
    if not billing.can_cancel(current_user):
        return redirect(url_for("subscriptions.index"))
    try:
        url = billing.start_checkout(current_user._get_current_object(), FREE_PLAN)
    except HTTPException as refused:
        return _refused(refused, "subscriptions.confirm_cancel")
    _say_free_plan()
    return redirect(url)


def _say_free_plan() -> None:
    """After the free plan was chosen, say so once when it is the plan now (a subscription kept until its
    period's end is said by the page itself)."""
    current = plans.plan_for(current_user)
    if current.is_free:
        flash(f"You are on the {current.name} plan now.")


def _refused(refused: HTTPException | InputError, page: str) -> BaseResponse:
    """A refused form (Post/Redirect/Get): a redirect to its ``page`` with the reason flashed, so that
    reloading shows the page again and sends nothing twice; the JSON error (and its status) for JSON."""
    if wants_json():
        raise refused
    if isinstance(refused, InputError):
        flash(FORM_WORDING.get(refused.code) or f"{refused.message[:1].upper()}{refused.message[1:]}.")
    else:
        flash(str(refused.description))
    return redirect(url_for(page))


def _cancel_page() -> str:
    return render_template(
        "subscriptions/cancel.html",
        current=plans.plan_for(current_user),
        subscription=plan_messages.subscription_of(current_user),
        free=plans.all_plans()[FREE_PLAN],
        payment_failed=plan_messages.payment_failed(current_user),
        at_period_end=billing.cancels_at_period_end(current_user),
        period_ends_on=_long_moment(current_user.period_ends_at),
        still_billing=_still_billing(),
    )


def _still_billing() -> str | None:
    """The sentence about a subscription that may still bill while the free plan is the current one."""
    if not billing.bills_without_paid_plan(current_user):
        return None
    return plan_messages.still_billing(current_user)


def _plan_ends_on() -> str:
    return _long_moment(current_user.plan_ends_at)


def _long_moment(moment: datetime | None) -> str:
    return plan_messages.long_moment(moment) if moment is not None else ""


@subscriptions.route("/subscriptions/keep", methods=["POST"])
@page_login_required
def keep() -> Response | BaseResponse:
    """Withdraw the cancellation at the period's end ("Keep my subscription", CSRF-checked): the plans
    page, saying so once (``{"redirect_url"}`` for JSON); when it cannot be done, the plans page with the
    reason (:func:`_refused`)."""
    try:
        billing.keep_subscription(current_user._get_current_object())
    except HTTPException as refused:
        return _refused(refused, "subscriptions.index")
    flash(f"Your {plans.plan_for(current_user).name} subscription goes on: it renews as before.")
    if wants_json():
        return jsonify({"redirect_url": billing.subscriptions_url()})
    return redirect(url_for("subscriptions.index"))


@subscriptions.route("/subscriptions/portal", methods=["POST"])
@api_login_required
def portal() -> Response:
    """A Stripe billing-portal URL for managing or cancelling the subscription (the API's call)."""
    return jsonify({"redirect_url": billing.portal_url(user())})


@subscriptions.route("/subscriptions/manage-billing", methods=["POST"])
@page_login_required
def manage_billing() -> str | Response | BaseResponse:
    """Manage billing (the plans page's form, CSRF-checked: no JavaScript needed): a page that moves on to
    a Stripe billing-portal session by itself (``{"redirect_url"}`` for JSON); when the portal cannot be
    opened, the plans page with the reason (:func:`_refused`)."""
    try:
        url = billing.portal_url(current_user._get_current_object())
    except HTTPException as refused:
        return _refused(refused, "subscriptions.index")
    if wants_json():
        return jsonify({"redirect_url": url})
    return render_template(
        "subscriptions/leaving.html",
        url=url,
        heading="Opening the billing portal",
        about="Your browser now goes on to the payment provider's billing portal, where you can update your "
        "payment method, see your invoices and change or cancel your subscription.",
        link_label="Continue to the billing portal",
        link_id="portal-link",
    )


@subscriptions.route("/stripe/webhook", methods=["POST"])
@csrf.exempt
def webhook() -> Response:
    """Stripe events, verified by signature (the one route without CSRF: Stripe cannot send a token)."""
    outcome = billing.handle_webhook(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    return jsonify({"status": outcome.status, "detail": outcome.detail})
