"""Request counters per route and outcome, in the Prometheus text exposition format 0.0.4."""

from collections import Counter

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUESTS_METRIC = "webhook_gateway_requests_total"


class Metrics:
    """Counters of handled requests. Label values come from configuration and a fixed set of
    outcomes, never from request data, so the number of series stays bounded."""

    def __init__(self) -> None:
        self._requests: Counter[tuple[str, str]] = Counter()

    def count(self, route: str, outcome: str) -> None:
        self._requests[(route, outcome)] += 1

    def value(self, route: str, outcome: str) -> int:
        return self._requests[(route, outcome)]

    def render(self) -> str:
        lines = [
            f"# HELP {REQUESTS_METRIC} Webhook requests handled, by route and outcome.",
            f"# TYPE {REQUESTS_METRIC} counter",
        ]
        for (route, outcome), count in sorted(self._requests.items()):
            labels = f'route="{_escape(route)}",outcome="{_escape(outcome)}"'
            lines.append(f"{REQUESTS_METRIC}{{{labels}}} {count}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
