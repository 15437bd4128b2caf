"""The cyclic garbage collector paused while a command builds large structures.

A board build at 100 000 letters makes millions of long-lived objects (the letters, their facts,
the entries, the manifest), and reading every case file makes the letters. Python's collector
walks every tracked object again at each full collection, which such a build triggers again and
again as it allocates: about a quarter of the one-letter board build at 100 000 letters
(docs/scale.md, "The collector paused, orjson, two Pagefind runs"). `validate` gained nothing
from it (its work is in its workers) and does not use it. The objects these commands make are
freed by reference counting (the peak memory measured the same with and without the collector),
so it is paused for the command and put back as it was after (also when the command fails).
Nested uses keep the outer state.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Automatic cyclic garbage collection off inside the block, as it was after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
