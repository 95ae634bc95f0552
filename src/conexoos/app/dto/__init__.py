"""Conexoos dto layer."""
