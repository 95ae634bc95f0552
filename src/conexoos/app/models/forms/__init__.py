"""Conexoos models forms layer."""
