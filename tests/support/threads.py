"""For tests of several workers in one process: run callables at the same time, each in a thread."""

from __future__ import annotations

import threading


def run_in_threads(*targets) -> None:
    """Start every target in a thread of its own, wait for all (60 s each at most), and fail with
    the errors any of them raised."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
