"""Conexoos blueprints layer."""
