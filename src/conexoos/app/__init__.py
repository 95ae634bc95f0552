"""Conexoos, the product: a project on the framework in the seed-001 layout."""
