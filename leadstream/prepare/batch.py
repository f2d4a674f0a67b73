"""Running the work of a whole file at once: the cyclic garbage collector held off meanwhile.

Reading and checking 100,000 rows makes a million objects that all stay alive until the end.
The collector, triggered by the count of new objects, then walks the whole growing heap again
and again and finds nothing to free (rows hold no reference cycles): a quarter of the
preparation's CPU time. Reference counting still frees every temporary object at once.

When the pause ends, the objects it made are all in the youngest generation, and the first
collection after it would walk them all (0.4 s for 100,000 checked rows). They are moved to the
oldest generation instead, as if they had survived the collections they skipped: they are then
walked only by the rare full collections, as they would have been anyway.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]

_lock = threading.Lock()
_depth = 0
_paused_here = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic collector off for the block; nested and concurrent blocks (two pages
    reading files at once) share one pause, ended by the last to leave. A collector that was
    already off stays off."""
    global _depth, _paused_here
    with _lock:
        _depth += 1
        if _depth == 1 and gc.isenabled():
            gc.disable()
            _paused_here = True
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _paused_here:
                _paused_here = False
                _age_young_objects()
                gc.enable()


def _age_young_objects() -> None:
    """Every object the collector tracks moved to its oldest generation, without a walk:
    freezing moves them all out of the generations and unfreezing puts them back into the
    oldest. Skipped when something else has frozen objects (they must stay frozen)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
