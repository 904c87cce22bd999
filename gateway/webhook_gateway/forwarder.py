"""Forward verified events to n8n over a keep-alive connection pool."""

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

VERIFIED_HEADER = "X-Webhook-Gateway-Verified"
EVENT_ID_HEADER = "X-Webhook-Gateway-Event-Id"
ROUTE_HEADER = "X-Webhook-Gateway-Route"
# A connect timeout well below the total, so an unreachable n8n fails fast and the claim is
# released while the provider is still waiting.
CONNECT_TIMEOUT_SECONDS = 3
POOL_SIZE = 64


class ForwardOutcome(enum.Enum):
    DELIVERED = "delivered"
    REJECTED = "rejected"  # n8n responded with a status other than 2xx
    UNAVAILABLE = "unavailable"  # connection failed or timed out


@dataclass(frozen=True)
class ForwardResult:
    outcome: ForwardOutcome
    status: int | None = None
    error: str | None = None


class N8nForwarder:
    """POSTs raw bodies to ``base_url + n8n_path`` with bounded timeouts."""

    def __init__(self, base_url: str, timeout_seconds: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(
            total=timeout_seconds, connect=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds)
        )
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=30)
        # auto_decompress off and no cookie jar: the gateway relays bytes and keeps no state.
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self.timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward(
        self, n8n_path: str, body: bytes, headers: Mapping[str, str]
    ) -> ForwardResult:
        if self._session is None:
            raise RuntimeError("N8nForwarder.start() must run before forward()")
        url = self.base_url + n8n_path
        try:
            async with self._session.post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                # Reading the (small) n8n reply lets the connection return to the pool.
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            message = str(error)
            description = f"{type(error).__name__}: {message}" if message else type(error).__name__
            return ForwardResult(ForwardOutcome.UNAVAILABLE, error=description)
        if 200 <= status < 300:
            return ForwardResult(ForwardOutcome.DELIVERED, status=status)
        return ForwardResult(ForwardOutcome.REJECTED, status=status)


def forward_headers(
    request_headers: Mapping[str, str],
    scheme_headers: tuple[str, ...],
    scheme_name: str,
    route_name: str,
    event_id: str,
    client_address: str,
) -> dict[str, str]:
    """Build the headers n8n receives: an allowlist, never the client's other headers.

    The client's X-Forwarded-For is replaced by the one address the gateway trusts, and the
    gateway's own X-Webhook-Gateway-* headers are set here only, so a client cannot forge them.
    """
    headers = {
        "Content-Type": request_headers.get("Content-Type", "application/octet-stream"),
        "X-Forwarded-For": client_address,
        VERIFIED_HEADER: scheme_name,
        ROUTE_HEADER: route_name,
        EVENT_ID_HEADER: event_id,
    }
    for name in scheme_headers:
        value = request_headers.get(name)
        if value is not None:
            headers[name] = value
    return headers
