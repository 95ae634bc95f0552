"""Conexoos utils layer."""
