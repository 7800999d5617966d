"""Time as a dependency: production code asks a Clock, tests inject a fixed one."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Unix seconds."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())


@dataclass
class FixedClock:
    """A clock for tests: stands still until moved."""

    current: int = field(default=1_730_000_000)

    def now(self) -> int:
        return self.current

    def advance(self, seconds: int) -> None:
        self.current += seconds
