"""HTTP handlers: the webhook pipeline, the health check and the metrics endpoint.

A webhook request passes these checks in order, and the first that fails sets the response:

====================  ======  ====================================================
check                 status  outcome label (log line and metric)
====================  ======  ====================================================
path is a route       404     not_found
method is POST        405     method_not_allowed (with ``Allow: POST``)
body not compressed   415     unsupported_encoding (Content-Encoding other than identity)
body within limit     413     too_large
body complete         400     incomplete_body (client disconnected or broken encoding)
signature valid       401     bad_signature (missing or wrong)
id and time present   400     malformed (signed, but no usable event id/timestamp)
not too old           401     stale
not too far ahead     401     future
dedup record          503     dedup_unavailable (Redis unreachable: nothing forwarded)
                      200     duplicate (already delivered: not forwarded again)
                      409     in_flight (another copy is being forwarded: retry later)
forward to n8n        2xx     forwarded (n8n's status passed through)
                      502     n8n_rejected (n8n responded non-2xx)
                      503     n8n_unavailable (connection failed or timed out)
(unexpected error)    500     internal_error (logged with its traceback)
(malformed HTTP)      400     bad_http (rejected by aiohttp's parser: see protocol_errors.py)
====================  ======  ====================================================

Stale and future requests get 401 like bad signatures, so the response does not tell a
client which check failed. A response body is the short text of its status only.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDictProxy
from redis.exceptions import RedisError

from .client_address import client_address
from .config import RouteConfig, Settings
from .dedup import Claim, ClaimResult, DedupStore
from .forwarder import ForwardOutcome, N8nForwarder, forward_headers
from .logs import RequestLogger, RequestRecord
from .metrics import CONTENT_TYPE, Metrics
from .schemes import MalformedEvent, Scheme, scheme_for

logger = logging.getLogger("webhook_gateway")

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
NO_ROUTE = "none"
BAD_HTTP_OUTCOME = "bad_http"
# Outcomes decided before the body is read, after whose response the connection is closed.
UNREAD_BODY_OUTCOMES = frozenset({"too_large", "unsupported_encoding"})
READ_CHUNK_BYTES = 64 * 1024
HEALTH_TIMEOUT_SECONDS = 2.0
SERVER_HEADER = "webhook-gateway"
# Fixed response bodies in RFC 9110 wording, because Python's reason phrases vary by version.
RESPONSE_TEXTS = {
    200: "ok",
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "content too large",
    415: "unsupported media type",
    502: "bad gateway",
    503: "service unavailable",
}


@dataclass(frozen=True)
class Result:
    """Outcome of one request: its label, HTTP status, and what to log about it.

    ``error`` names a failure the gateway caught (Redis, n8n), and makes the line a WARNING.
    """

    outcome: str
    status: int
    event_id: str | None = None
    detail: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RouteHandler:
    route: RouteConfig
    scheme: Scheme


class Gateway:
    """The webhook pipeline for every configured route."""

    def __init__(
        self,
        settings: Settings,
        dedup: DedupStore,
        forwarder: N8nForwarder,
        metrics: Metrics,
        request_logger: RequestLogger,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.dedup = dedup
        self.forwarder = forwarder
        self.metrics = metrics
        self.request_logger = request_logger
        self.clock = clock
        self.handlers = {
            route.public_path: RouteHandler(route, scheme_for(route)) for route in settings.routes
        }

    async def handle_webhook(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        client = self._client_address(request)
        handler = self.handlers.get(request.path)
        try:
            result = await self._process(request, handler, client)
        except Exception as error:
            logger.exception("request to %r failed with an unexpected error", request.path[:100])
            result = Result("internal_error", 500, error=describe(error))

        route_name = handler.route.name if handler else NO_ROUTE
        self.metrics.count(route_name, result.outcome)
        self.request_logger.log(
            RequestRecord(
                route=route_name,
                outcome=result.outcome,
                status=result.status,
                client=client,
                duration_ms=(time.perf_counter() - started) * 1000,
                event_id=result.event_id,
                detail=result.detail,
                error=result.error,
            )
        )
        return _response(result.status, close=result.outcome in UNREAD_BODY_OUTCOMES)

    async def handle_health(self, request: web.Request) -> web.StreamResponse:
        """Respond 200 while Redis replies to PING, else 503.

        n8n is not checked, because a provider's retry covers an n8n outage, but without Redis
        nothing can be forwarded.
        """
        try:
            healthy = await asyncio.wait_for(self.dedup.ping(), HEALTH_TIMEOUT_SECONDS)
        except (TimeoutError, RedisError) as error:
            logger.warning("health check failed: Redis unreachable (%s)", describe(error))
            healthy = False
        logger.debug("health check status=%d", 200 if healthy else 503)
        return _response(200 if healthy else 503)

    def record_bad_request(self, peer: str | None, error: HttpProcessingError) -> None:
        """Count and log one request that aiohttp rejected with 400 as malformed HTTP.

        Its headers were not parsed, so the client is the TCP peer (Caddy, in the deployment).
        Only the error's type is logged, because its message can quote header bytes, such as
        a signature.
        """
        self.metrics.count(NO_ROUTE, BAD_HTTP_OUTCOME)
        self.request_logger.log(
            RequestRecord(
                route=NO_ROUTE,
                outcome=BAD_HTTP_OUTCOME,
                status=400,
                client=client_address(None, peer, 0),
                duration_ms=None,
                detail=type(error).__name__,
            )
        )

    def _client_address(self, request: web.Request) -> str:
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
        return client_address(forwarded, request.remote, self.settings.trusted_proxy_hops)

    async def _process(
        self, request: web.Request, handler: RouteHandler | None, client: str
    ) -> Result:
        if handler is None:
            return Result("not_found", 404)
        if request.method != "POST":
            return Result("method_not_allowed", 405)
        if not content_encoding_supported(request.headers):
            encodings = ",".join(request.headers.getall("Content-Encoding"))
            return Result("unsupported_encoding", 415, detail=f"content_encoding={encodings}")
        try:
            body = await _read_limited(request, self.settings.max_body_bytes)
        except IncompleteBody as error:
            return Result("incomplete_body", 400, detail=str(error))
        if body is None:
            return Result("too_large", 413)

        verified = handler.scheme.verify(request.headers, body, handler.route.secrets)
        if verified is None:
            return Result("bad_signature", 401)
        try:
            event = handler.scheme.extract(request.headers, body, verified)
        except MalformedEvent as error:
            return Result("malformed", 400, detail=str(error))
        rejection = self._freshness(handler.route, event.timestamp)
        if rejection:
            return Result(rejection, 401, event_id=event.event_id)
        return await self._deliver_once(request, handler, body, event.event_id, client)

    def _freshness(self, route: RouteConfig, timestamp: float | None) -> str | None:
        if timestamp is None or route.max_age_seconds is None:
            return None
        now = self.clock()
        if now - timestamp > route.max_age_seconds:
            return "stale"
        if timestamp - now > (route.max_future_seconds or 0):
            return "future"
        return None

    async def _deliver_once(
        self, request: web.Request, handler: RouteHandler, body: bytes, event_id: str, client: str
    ) -> Result:
        try:
            state, claim = await self.dedup.claim(handler.route.name, event_id)
        except RedisError as error:
            return Result("dedup_unavailable", 503, event_id, error=f"redis: {describe(error)}")
        if state is ClaimResult.DONE:
            return Result("duplicate", 200, event_id)
        if state is ClaimResult.IN_FLIGHT or claim is None:
            return Result("in_flight", 409, event_id)

        headers = forward_headers(
            request.headers,
            handler.scheme.forwarded_headers,
            handler.scheme.name,
            handler.route.name,
            event_id,
            client,
        )
        try:
            forwarded = await self.forwarder.forward(handler.route.n8n_path, body, headers)
        except BaseException:
            # Whatever stopped the forward, the next retry must be able to claim the event.
            await self._release(claim)
            raise
        if forwarded.outcome is ForwardOutcome.DELIVERED:
            return await self._finish(claim, event_id, forwarded.status or 200)
        release_error = await self._release(claim)
        if forwarded.outcome is ForwardOutcome.REJECTED:
            return Result(
                "n8n_rejected", 502, event_id, f"n8n_status={forwarded.status}", release_error
            )
        return Result(
            "n8n_unavailable", 503, event_id, error=release_error or f"n8n: {forwarded.error}"
        )

    async def _finish(self, claim: Claim, event_id: str, status: int) -> Result:
        try:
            await self.dedup.mark_done(claim)
        except RedisError as error:
            # n8n has the event, so the provider must see success: a 5xx would make it retry
            # and, once the lease expires, deliver the event twice.
            return Result("forwarded", status, event_id, error=f"mark done: {describe(error)}")
        return Result("forwarded", status, event_id)

    async def _release(self, claim: Claim) -> str | None:
        """Release the claim and return None, or a description of the Redis error."""
        try:
            await self.dedup.release(claim)
        except RedisError as error:
            # The lease expires on its own, after which a retry can claim the event again.
            return f"release claim: {describe(error)}"
        return None


def describe(error: BaseException) -> str:
    """Return the error's type and message, for a log line."""
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def content_encoding_supported(headers: CIMultiDictProxy[str]) -> bool:
    """Return whether every Content-Encoding header lists only ``identity``, or there is none.

    Only uncompressed bodies are accepted: decompressing would check the signature over other
    bytes than those received, and would let a small request expand into a large body.
    """
    for value in headers.getall("Content-Encoding", []):
        codings = [coding.strip().lower() for coding in value.split(",")]
        if any(coding != "identity" for coding in codings):
            return False
    return True


class IncompleteBody(Exception):
    """The client closed the connection or broke the transfer encoding before the body ended."""


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """Return the body, or None as soon as it is known to exceed ``limit`` bytes.

    Raises IncompleteBody instead of the connection error, which aiohttp would otherwise log
    with a traceback for every client that disconnects early.
    """
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks = []
    size = 0
    try:
        async for chunk in request.content.iter_chunked(READ_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except (ConnectionError, HttpProcessingError) as error:
        raise IncompleteBody(describe(error)) from error
    return b"".join(chunks)


def _response(status: int, close: bool = False) -> web.Response:
    text = RESPONSE_TEXTS.get(status) or HTTPStatus(status).phrase.lower()
    headers = None
    if status == 405:
        headers = {"Allow": "POST"}
    elif status == 415:
        # RFC 9110, section 15.5.16: name the content codings the server accepts.
        headers = {"Accept-Encoding": "identity"}
    response = web.Response(status=status, text=text + "\n", headers=headers)
    if close:
        # The rest of the body is never read, so the connection cannot be reused.
        response.force_close()
    return response


async def _set_server_header(request: web.Request, response: web.StreamResponse) -> None:
    # aiohttp would otherwise announce its own and Python's versions.
    response.headers["Server"] = SERVER_HEADER


def build_app(gateway: Gateway) -> web.Application:
    """Return the main application: /healthz and every webhook route."""
    app = web.Application()
    app.on_response_prepare.append(_set_server_header)
    app.router.add_get(HEALTH_PATH, gateway.handle_health, allow_head=False)
    app.router.add_route("*", "/{path:.*}", gateway.handle_webhook)
    return app


def build_metrics_app(metrics: Metrics) -> web.Application:
    """Return the metrics application, served on its own internal port."""

    async def handle_metrics(request: web.Request) -> web.StreamResponse:
        return web.Response(body=metrics.render().encode(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.on_response_prepare.append(_set_server_header)
    app.router.add_get(METRICS_PATH, handle_metrics, allow_head=False)
    return app
