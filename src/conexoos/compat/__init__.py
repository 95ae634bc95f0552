"""Compatibility layers: other frameworks' APIs served by Conexoos (see ``framework/compat_import.py``)."""
