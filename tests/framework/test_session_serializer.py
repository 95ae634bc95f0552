"""Flask-Session's serializer is made at a server session's first read or write
(framework/session_serializer.py): the same bytes, both formats, and the same error for an unknown one."""

from __future__ import annotations

import pickle

import pytest
from flask import Flask
from flask_session.base import ServerSideSession

from conexoos.framework.session_serializer import LazySerializer


@pytest.mark.parametrize("data_format", ["msgpack", "json"])
def test_it_encodes_and_decodes_as_flask_session_s_serializer(data_format: str) -> None:
    app = Flask("serializer")
    lazy = LazySerializer(app=app, format=data_format)
    eager = LazySerializer.eager(app=app, format=data_format)
    session = ServerSideSession({"user_id": 7, "_fresh": True, "csrf": "ab"}, sid="s")
    assert lazy.encode(session) == eager.encode(session)
    other = LazySerializer.eager(app=app, format="json" if data_format == "msgpack" else "msgpack")
    assert lazy.decode(other.encode(session)) == dict(session)  # the other format, as Flask-Session does
    assert lazy.decode(pickle.dumps({"old": 1})) == {"old": 1}  # stored by Flask-Session before 0.7
    assert lazy.serializer() is lazy.serializer()


def test_an_unknown_format_is_an_error_when_the_store_is_made() -> None:
    with pytest.raises(ValueError, match="Unsupported serialization format: yaml"):
        LazySerializer(app=Flask("serializer"), format="yaml")
