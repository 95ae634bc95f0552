"""The first-run setup form of a site without its own password login: its name and sign-up policy."""

from __future__ import annotations

from flask_wtf import FlaskForm

from .setup import SetupForm


class SiteSetupForm(FlaskForm):
    """Site name and sign-up policy (the first administrator is made on the command line)."""

    token = SetupForm.token
    site_name = SetupForm.site_name
    signup_policy = SetupForm.signup_policy
