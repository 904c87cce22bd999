"""Request log lines: one per request, with repeats of the same rejection rate-limited."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

LOGGER_NAME = "webhook_gateway"
logger = logging.getLogger(LOGGER_NAME)

# Outcomes logged for every request. Any other outcome (rejections, outages) is limited per
# route and outcome, because a flood of forged requests must not flood the log.
ALWAYS_LOGGED = frozenset({"forwarded", "duplicate"})
REPEAT_WINDOW_SECONDS = 60.0
REPEAT_LINES_PER_WINDOW = 20
MAX_VALUE_LENGTH = 128


@dataclass(frozen=True)
class RequestRecord:
    """Facts of one handled request, without body, signature or secret."""

    route: str
    outcome: str
    status: int
    client: str
    duration_ms: float | None  # None when aiohttp rejected the request before the gateway saw it
    event_id: str | None = None
    detail: str | None = None
    error: str | None = None


def format_record(record: RequestRecord) -> str:
    fields = [
        ("route", record.route),
        ("outcome", record.outcome),
        ("status", str(record.status)),
        ("client", record.client),
        ("event_id", record.event_id),
        ("duration_ms", None if record.duration_ms is None else f"{record.duration_ms:.1f}"),
        ("detail", record.detail),
        ("error", record.error),
    ]
    return " ".join(f"{name}={_quote(value)}" for name, value in fields if value is not None)


def _quote(value: str) -> str:
    # Escape non-printable characters so a provider-chosen value cannot start a new log line.
    text = value[:MAX_VALUE_LENGTH].encode("unicode_escape").decode("ascii")
    if not text or any(char in text for char in ' "='):
        return '"' + text.replace('"', '\\"') + '"'
    return text


class RepeatLimiter:
    """Allow a number of lines per key and window, and count the ones held back."""

    def __init__(
        self,
        lines_per_window: int = REPEAT_LINES_PER_WINDOW,
        window_seconds: float = REPEAT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lines_per_window = lines_per_window
        self.window_seconds = window_seconds
        self.clock = clock
        self._windows: dict[tuple[str, str], tuple[float, int, int]] = {}

    def admit(self, key: tuple[str, str]) -> tuple[bool, int]:
        """Return whether to log a line for ``key``, and how many lines the last window held
        back (reported once, with the first line of the next window)."""
        now = self.clock()
        start, logged, suppressed = self._windows.get(key, (now, 0, 0))
        held_back = 0
        if now - start >= self.window_seconds:
            held_back = suppressed
            start, logged, suppressed = now, 0, 0
        if logged < self.lines_per_window:
            self._windows[key] = (start, logged + 1, suppressed)
            return True, held_back
        self._windows[key] = (start, logged, suppressed + 1)
        return False, held_back


class RequestLogger:
    """Write one INFO line per request, or WARNING for a 5xx or a caught error."""

    def __init__(self, limiter: RepeatLimiter | None = None) -> None:
        self.limiter = limiter or RepeatLimiter()

    def log(self, record: RequestRecord) -> None:
        level = logging.WARNING if record.status >= 500 or record.error else logging.INFO
        if not logger.isEnabledFor(level):
            return
        line = format_record(record)
        if record.outcome in ALWAYS_LOGGED:
            logger.log(level, "%s", line)
            return
        admitted, held_back = self.limiter.admit((record.route, record.outcome))
        if held_back:
            logger.warning(
                "route=%s outcome=%s suppressed=%d lines in the last window",
                _quote(record.route),
                record.outcome,
                held_back,
            )
        if admitted:
            logger.log(level, "%s", line)
