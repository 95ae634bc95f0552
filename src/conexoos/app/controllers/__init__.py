"""Conexoos controllers layer."""
