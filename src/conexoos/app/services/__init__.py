"""Conexoos services layer."""
