"""Block kinds: a public page is an ordered list of blocks, and each kind is declared in one module.

- ``kind.py``: the interface every kind fills (fields, validation, rendering, plan limit);
- ``link.py``, ``product.py``: kinds kept in their own tables (their ids are ``/go`` URLs);
- ``simple.py`` with ``header.py``, ``text.py``, ``divider.py``: kinds stored in the block;
- ``registry.py``: the list of kinds; ``operations.py``: the generic API's rules;
- ``page.py``: one order across the page; ``public.py``: what the public page shows.
"""
