"""fewer_gc_passes: the collector's first threshold raised inside, the process's own value back after the last
of several blocks open at once, whichever ends first."""

import gc
import threading

from fieldwalk.gc_threshold import YOUNG_THRESHOLD, fewer_gc_passes


def test_the_threshold_is_raised_inside_and_restored_after_the_last_block():
    before = gc.get_threshold()
    gc.set_threshold(500, 7, 9)
    try:
        first, second = fewer_gc_passes(), fewer_gc_passes()
        first.__enter__()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 7, 9)
        second.__enter__()
        first.__exit__(None, None, None)  # the first to open ends first: the second still runs
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 7, 9)
        second.__exit__(None, None, None)
        assert gc.get_threshold() == (500, 7, 9)
    finally:
        gc.set_threshold(*before)


def test_blocks_in_threads_and_an_exception_leave_the_threshold_as_it_was():
    before = gc.get_threshold()
    inside = threading.Barrier(4)

    def block():
        try:
            with fewer_gc_passes():
                inside.wait(timeout=10)
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass

    threads = [threading.Thread(target=block) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.get_threshold() == before
