"""Garbage collection paused while a pass allocates many small, acyclic objects.

Beside a loaded model (a million objects) every collection that triggers walks them all:
parsing or factoring 5,000 layers ran several times slower with the collector on. What
these passes build holds no cycles worth collecting early.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
