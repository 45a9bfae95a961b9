"""Deadlines for the language model, kept by the turn rather than by the model.

The model checks its own deadline after every token, but a model that hangs inside one call (a
huge prompt, a stuck thread) never gets to check it. So the turn runs the model's work in a
helper thread and waits for it with its own clock: after ``cue_s`` seconds without a result it
says it is still thinking (once), and at ``deadline_s`` it gives up and moves on. A helper left
behind finishes on its own; the model's lock keeps a later call waiting until it has.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Final, TypeVar

__all__ = ["TimedOut", "call_within", "stream_within"]

T = TypeVar("T")

_END: Final = object()


class TimedOut(Exception):
    """The deadline passed before the model had anything to give."""


def call_within(
    work: Callable[[], T], deadline_s: float, cue_s: float, on_cue: Callable[[], None]
) -> T:
    """``work()``'s result, computed in a helper thread; its exception is raised here.
    ``on_cue()`` once after ``cue_s`` seconds (0: never); :class:`TimedOut` after
    ``deadline_s``."""
    return next(stream_within(lambda: iter([work()]), deadline_s, cue_s, on_cue))


def stream_within(
    pieces: Callable[[], Iterator[T]],
    deadline_s: float,
    cue_s: float,
    on_cue: Callable[[], None],
) -> Iterator[T]:
    """The pieces ``pieces()`` yields, produced in a helper thread. ``on_cue()`` once if the
    first piece takes longer than ``cue_s``; :class:`TimedOut` if none came within
    ``deadline_s``; after that the stream simply ends at the deadline."""
    box: queue.SimpleQueue[object] = queue.SimpleQueue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for piece in pieces():
                if stop.is_set():
                    return
                box.put(piece)
        except BaseException as err:  # handed to the consumer
            box.put(err)
        finally:
            box.put(_END)

    threading.Thread(target=produce, name="hearth-llm-stream", daemon=True).start()
    started = time.monotonic()
    cued = cue_s <= 0
    got_any = False
    try:
        while True:
            elapsed = time.monotonic() - started
            until = deadline_s if cued or got_any else min(cue_s, deadline_s)
            try:
                item = box.get(timeout=max(0.0, until - elapsed))
            except queue.Empty:
                if time.monotonic() - started >= deadline_s:
                    if not got_any:
                        raise TimedOut from None
                    return
                cued = True
                on_cue()
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            got_any = True
            yield item  # type: ignore[misc]
    finally:
        stop.set()
