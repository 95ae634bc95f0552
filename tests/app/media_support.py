"""Shared by the media tests: the tests' own S3 server (one per module) and small helpers."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import pytest
from PIL import Image

from tests.support.moto_s3 import S3Server, running_s3_server


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server in its own process, for this module's tests."""
    with running_s3_server() as server:
        yield server


def noisy_png(size: tuple[int, int] = (400, 400), seed: int = 1) -> bytes:
    """A PNG of random pixels: its re-encoded WebP stays large (tens of KB), unlike a flat colour."""
    image = Image.frombytes("RGB", size, _random_bytes(size[0] * size[1] * 3, seed))
    output = BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def _random_bytes(count: int, seed: int) -> bytes:
    import random

    return random.Random(seed).randbytes(count)
