"""The event loop's default executor for `statbot serve`: a small pool of daemon threads.

Blocking calls go to the loop's default executor: the Bot Framework's connector client
sends every HTTP request with ``requests`` there (msrest), and DNS look-ups go there too.
A Teams turn or send that shutdown cuts off leaves its thread waiting on the Bot
Connector, and with the standard ThreadPoolExecutor both ``asyncio.run`` and the
interpreter wait for that thread before the process exits (msrest's timeout is 100 s):
far past docker stop's 10 s.  These threads are daemons nobody waits for: at exit, what
they were doing is abandoned, as the cancelled turn that asked for it was.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonThreads(ThreadPoolExecutor):
    """Up to ``workers`` daemon threads (as many as ThreadPoolExecutor's default), started
    as work arrives.  ``shutdown`` never waits for them.  A ThreadPoolExecutor only by
    name (asyncio accepts no other kind as the default executor): none of its own
    machinery, whose threads the interpreter joins at exit, is used."""

    def __init__(self, workers: int | None = None) -> None:
        super().__init__(max_workers=1)  # unused: no work ever reaches the base class
        self._workers = workers or min(32, (os.cpu_count() or 1) + 4)
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._daemons: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put((future, fn, args, kwargs))
            if self._idle > 0:
                self._idle -= 1  # a waiting thread takes it
            elif len(self._daemons) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"statbot-worker-{len(self._daemons)}", daemon=True
                )
                self._daemons.append(thread)
                thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # ``wait`` is not honoured, on purpose: see the module's docstring.
        with self._lock:
            self._closed = True
        if cancel_futures:
            while True:
                try:
                    work = self._queue.get_nowait()
                except queue.Empty:
                    break
                if work is not None:
                    work[0].cancel()
        for _ in self._daemons:
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            future, fn, args, kwargs = work
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            with self._lock:
                self._idle += 1
