"""Container health check: ``python -m webhook_gateway.healthcheck``.

Exits 0 when the gateway's /healthz on 127.0.0.1:GATEWAY_PORT responds 200 (Redis reachable),
and 1 otherwise. It uses only the standard library, so the image needs no curl, and it does
not import the service's modules, so it starts fast.
"""

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 3.0
DEFAULT_PORT = "8080"


def check(port: str, timeout: float = TIMEOUT_SECONDS) -> int:
    """Return 0 if /healthz on the loopback port responds 200, else 1."""
    url = f"http://127.0.0.1:{int(port)}/healthz"
    try:
        # The URL is built from a fixed loopback address and an integer port.
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"healthcheck: {url} failed: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"healthcheck: {url} responded {status}, expected 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(check(os.environ.get("GATEWAY_PORT", DEFAULT_PORT)))
