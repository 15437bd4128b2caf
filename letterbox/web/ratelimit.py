"""The intake service's rate limit: a sliding window per client address, in memory."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimiter:
    """Sliding window per client address, in memory (one service process)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.hits: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def check(self, address: str) -> float | None:
        """None if the request may go on (and count it); else seconds until it may."""
        if self.limit <= 0:
            return None
        now = self.clock()
        with self.lock:
            if len(self.hits) > 10_000:  # forget quiet addresses
                for key in [k for k, v in self.hits.items() if not v or v[-1] < now - self.window]:
                    del self.hits[key]
            hits = self.hits[address]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - now)
            hits.append(now)
            return None
