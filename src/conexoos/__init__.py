"""Conexoos: a link-in-bio platform and the Flask MVC framework it runs on."""

__version__ = "0.2.0"
