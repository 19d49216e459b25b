"""Python's cyclic garbage collector paced for reads of tens of thousands of ORM objects.

By default the collector looks at the young objects every 700 allocations and moves the survivors on, so
a request that loads a quarter's 2,000 action items with their findings, events and photos (some 35,000
objects, each with its state and collections) and renders them has the same objects scanned again and again:
about a third of the period protocol's time at 10,000 items (docs/benchmarks.md). Inside `fewer_gc_passes()`
the first generation's threshold is 20,000 allocations. Nothing is left uncollected: the collector still
runs, less often, and the usual pace comes back when the last such block in the process ends (the threshold
is the process's, shared by its threads: a count of the blocks open keeps two requests at once from
restoring each other's value).
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000

_lock = threading.Lock()
_open = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_gc_passes() -> Iterator[None]:
    global _open, _saved
    with _lock:
        if _open == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(YOUNG_THRESHOLD, _saved[0]), *_saved[1:])
        _open += 1
    try:
        yield
    finally:
        with _lock:
            _open -= 1
            if _open == 0:
                gc.set_threshold(*_saved)
