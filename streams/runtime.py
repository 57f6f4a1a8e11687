"""What one worker process holds for its stages: the frame embedder and the index, opened on
first use (a worker that only runs the audio stage never loads the frame model), and the thread
pool that keeps decoding and inference off the event loop, so heartbeats keep flowing."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable, TypeVar

from streams.config import Settings

T = TypeVar("T")


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._embedder = None
        self._index = None
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dupstream-stage")

    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from streams.embedding import open_embedder

                self._embedder = open_embedder(self.settings)
            return self._embedder

    @property
    def index(self):
        with self._lock:
            if self._index is None:
                from streams.errors import IndexUnavailable
                from streams.index import open_index

                # Not kept when it fails: the next video tries again, so a fixed index is picked up.
                try:
                    self._index = open_index(self.settings)
                except Exception as error:
                    raise IndexUnavailable(f"cannot open the index: {error}") from error
            return self._index

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work (decoding, inference, index I/O) in the stage thread pool."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args, **kwargs))

    def close(self) -> None:
        with self._lock:
            for resource in (self._embedder, self._index):
                if resource is not None:
                    resource.close()
            self._embedder = self._index = None
        self._executor.shutdown(wait=False, cancel_futures=True)
