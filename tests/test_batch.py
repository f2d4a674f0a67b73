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
