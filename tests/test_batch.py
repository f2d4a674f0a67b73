"""The collector pause around whole-file work: on during nothing else, restored afterwards."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from leadstream.prepare.batch import collector_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still runs
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_an_error_inside_still_restores_the_collector() -> None:
    with pytest.raises(ValueError, match="row 3"), collector_paused():
        raise ValueError("row 3")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_overlapping_blocks_in_two_threads_end_with_the_last() -> None:
    first_inside, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with collector_paused():
            first_inside.set()
            release_first.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inside.wait(5)
    with collector_paused():
        release_first.set()
        thread.join(5)
        assert not gc.isenabled()  # the first thread left, this block still runs
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
@pytest.mark.parametrize("data", [b"Email\na@example.com\n", b"Email\n"])
def test_reading_and_preparing_a_file_leave_the_collector_on(data: bytes) -> None:
    from leadstream.prepare.files import FileReadError, read_table
    from leadstream.prepare.mapping import auto_match, prepare_rows

    try:
        table = read_table(data, "leads.csv")
    except FileReadError:  # a header without rows: refused, from inside the pause
        assert gc.isenabled()
        return
    rows = prepare_rows(table.frame, auto_match(table.columns))
    assert [row.lead.email for row in rows] == ["a@example.com"]
    assert gc.isenabled()


class _Node:
    """Something the collector tracks and a weak reference can watch."""

    def __init__(self) -> None:
        self.other: object = None


@pytest.mark.usefixtures("collector_on")
def test_objects_made_in_the_pause_are_moved_to_the_oldest_generation() -> None:
    with collector_paused():
        made = [_Node() for _ in range(100)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(node) in oldest for node in made)
    assert gc.get_count()[0] < 100  # the first collection after it has nothing to walk


@pytest.mark.usefixtures("collector_on")
def test_a_cycle_dropped_in_the_pause_is_still_freed_by_a_full_collection() -> None:
    import weakref

    with collector_paused():
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        watched = weakref.ref(first)
        del first, second
    assert watched() is not None  # only the collector frees a cycle
    gc.collect()
    assert watched() is None


@pytest.mark.usefixtures("collector_on")
def test_objects_frozen_by_someone_else_stay_frozen() -> None:
    kept = _Node()
    gc.freeze()
    try:
        with collector_paused():
            _ = [_Node() for _ in range(10)]
        # Frozen objects are in no generation: had the pause unfrozen them, it would be in one.
        assert all(o is not kept for o in gc.get_objects())
    finally:
        gc.unfreeze()
