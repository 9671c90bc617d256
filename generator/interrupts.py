"""SIGINT and SIGTERM as an exception that cleans up, deferred while files move into place.

Python's default SIGTERM kills the process without running ``finally`` blocks, and its
default SIGINT can land between two renames of a multi-file write. The ``scaffold``
command installs ``install()``'s handler, which raises ``Interrupted`` so every temporary
file is removed, except inside ``deferred()``: there the signal waits until the block is
done, so a set of files is moved into place completely or not at all. Once the command
has finished (``ignore_from_now``), a late signal changes nothing: the process exits with
the command's own exit code.

A signal that the parent process ignores (``nohup``, background jobs) stays ignored.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A handled signal arrived; ``exit_code`` is 128 + the signal number (130, 143)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _State:
    depth = 0  # nesting of ``deferred`` blocks
    pending: int | None = None  # the first signal that arrived inside one
    finished = False  # the command is done or already reporting an interrupt
    received: int | None = None  # the first signal raised as ``Interrupted``


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    if _State.finished:
        return
    if _State.depth:
        _State.pending = _State.pending or signum
        return
    _State.received = _State.received or signum
    raise Interrupted(signum)


def install() -> None:
    """Turn SIGINT and SIGTERM into ``Interrupted`` (unless the parent ignores them)."""
    _State.finished = False
    _State.received = None
    for signum in HANDLED:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _raise_interrupted)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold handled signals until the block ends, then raise the first one."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if not _State.depth and _State.pending is not None:
            signum, _State.pending = _State.pending, None
            _State.received = _State.received or signum
            raise Interrupted(signum)


def received() -> int | None:
    """The signal raised as ``Interrupted`` since ``install``, if any. A library that
    swallows the exception (an import interrupted half-way, caught by a bare ``except``)
    fails later in ways that say nothing of the interrupt; this still knows."""
    return _State.received


def ignore_from_now() -> None:
    """Ignore the handled signals from now on: the command's work is done.

    Python's shutdown (and TensorFlow's, which takes a while) would otherwise let a late
    signal end the process with a status that says it was interrupted. An ignored signal
    also stays ignored through the interpreter's finalization.
    """
    _State.finished = True  # first: a signal arriving while the handlers change is ignored
    for signum in HANDLED:
        if signal.getsignal(signum) is _raise_interrupted:
            signal.signal(signum, signal.SIG_IGN)
