"""Per-user command rate limit (CASETRAIL_RATE_LIMIT, e.g. "600/minute"): 429 + Retry-After.

A moving window per token subject, kept in this process (the `limits` library). Behind a load
balancer each replica counts its own share; put a shared store behind `limits` if a hard
global cap is needed.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.problems import ApiError


class CommandRateLimit:
    def __init__(self, spec: str) -> None:
        try:
            self.item: RateLimitItem = parse(spec)
        except ValueError:
            msg = f"CASETRAIL_RATE_LIMIT {spec!r} is not like '600/minute'"
            raise RuntimeError(msg) from None
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, subject: str) -> None:
        if self.limiter.hit(self.item, subject):
            return
        stats = self.limiter.get_window_stats(self.item, subject)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(
            429,
            "rate-limited",
            "Too many commands",
            f"at most {self.item} per user; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
