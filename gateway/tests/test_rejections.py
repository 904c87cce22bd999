"""Hostile requests to the real gateway: each gets a generic 4xx and one log line.

Every test here also checks that no record carries a traceback, because a traceback per
request would bypass the rate limit of the request log.
"""

import asyncio
import gzip
import json
import logging
import time

import aiohttp
from multidict import CIMultiDict

from gateway.webhook_gateway import app
from gateway.webhook_gateway.logs import REPEAT_LINES_PER_WINDOW

from . import support
from .test_end_to_end import SECRETS, gateway_url, running_gateway, running_standin


def now_seconds() -> int:
    return int(time.time())


def tracebacks(records: list[logging.LogRecord]) -> list[str]:
    return [record.getMessage() for record in records if record.exc_info or record.exc_text]


def request_lines(records: list[logging.LogRecord], outcome: str) -> list[str]:
    messages = [record.getMessage() for record in records]
    return [message for message in messages if f" outcome={outcome} " in message]


def test_unparsable_signed_json_rejected(redis_server, caplog):
    """Signed bodies that the JSON parser cannot handle get 400, not 500."""
    caplog.set_level(logging.INFO)
    now = time.time()
    deep = b'{"id": "evt_deep", "object": "event", "data": ' + b"[" * 100_000 + b"]" * 100_000
    huge_number = b'{"id": ' + b"7" * 5000 + b', "object": "event"}'
    flutterwave_deep = b'{"id": "wbk_deep", "timestamp": 1, "data": ' + b'{"a": ' * 100_000

    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            statuses = []
            for body in (deep, huge_number):
                headers = support.stripe_headers(SECRETS["stripe"][0], body, int(now))
                url = gateway_url(server, "/hooks/stripe")
                async with session.post(url, data=body, headers=headers) as response:
                    statuses.append((response.status, await response.text()))
            headers = support.flutterwave_v4_headers(SECRETS["flutterwave"][0], flutterwave_deep)
            url = gateway_url(server, "/hooks/flutterwave")
            async with session.post(url, data=flutterwave_deep, headers=headers) as response:
                statuses.append((response.status, await response.text()))
            return statuses, standin, server.metrics

    statuses, standin, metrics = asyncio.run(scenario())
    assert statuses == [(400, "bad request\n")] * 3
    assert standin.received == []
    assert metrics.value("stripe", "malformed") == 2
    assert metrics.value("flutterwave", "malformed") == 1
    assert metrics.value("stripe", "internal_error") == 0
    assert len(request_lines(caplog.records, "malformed")) == 3
    assert tracebacks(caplog.records) == []
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def stripe_event(event_id: str) -> tuple[bytes, bytes]:
    """Return a Stripe event body and its gzip-compressed bytes."""
    body = json.dumps({"id": event_id, "object": "event"}).encode()
    return body, gzip.compress(body)


def test_compressed_body_rejected(redis_server, caplog):
    """Any Content-Encoding but identity gets 415 before the body is read."""
    caplog.set_level(logging.INFO)
    encodings = [["gzip"], ["GZIP"], ["br"], ["deflate"], ["identity, gzip"], ["identity", "gzip"]]
    encodings.append([""])

    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            url = gateway_url(server, "/hooks/stripe")
            rejected = []
            for index, values in enumerate(encodings):
                # Signed over the uncompressed JSON, as if the gateway were to decompress it.
                body, compressed = stripe_event(f"evt_gzip_{index}")
                headers = CIMultiDict(
                    support.stripe_headers(SECRETS["stripe"][0], body, now_seconds())
                )
                for value in values:
                    headers.add("Content-Encoding", value)
                async with session.post(url, data=compressed, headers=headers) as response:
                    rejected.append(
                        (response.status, await response.text(), response.headers.copy())
                    )
            body, _ = stripe_event("evt_identity")
            headers = support.stripe_headers(SECRETS["stripe"][0], body, now_seconds())
            headers["Content-Encoding"] = "identity"
            async with session.post(url, data=body, headers=headers) as response:
                identity_status = response.status
            return rejected, identity_status, standin, server.metrics

    rejected, identity_status, standin, metrics = asyncio.run(scenario())
    for values, (status, text, headers) in zip(encodings, rejected, strict=True):
        assert (status, text) == (415, "unsupported media type\n"), values
        assert headers["Accept-Encoding"] == "identity", values
        assert headers["Connection"] == "close", values
    assert identity_status == 200
    assert [request.body for request in standin.received] == [stripe_event("evt_identity")[0]]
    assert metrics.value("stripe", "unsupported_encoding") == len(encodings)
    assert len(request_lines(caplog.records, "unsupported_encoding")) == len(encodings)
    assert tracebacks(caplog.records) == []


def test_signature_covers_received_bytes(redis_server, monkeypatch):
    """With the encoding check switched off, the signature still covers the bytes received.

    GitHub's event id is a header, so a gzip body that is not JSON can still be forwarded.
    The first request is signed over the uncompressed body and must fail, which it would not
    if aiohttp decompressed the body before the gateway read it.
    """
    monkeypatch.setattr(app, "content_encoding_supported", lambda headers: True)
    body = json.dumps({"zen": "Half measures are as bad as nothing at all."}).encode()
    compressed = gzip.compress(body)

    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            url = gateway_url(server, "/hooks/github")
            statuses = []
            for signed, delivery in ((body, "gh-signed-plain"), (compressed, "gh-signed-gzip")):
                headers = support.github_headers(SECRETS["github"][0], signed, delivery)
                headers["Content-Encoding"] = "gzip"
                async with session.post(url, data=compressed, headers=headers) as response:
                    statuses.append(response.status)
            return statuses, standin

    statuses, standin = asyncio.run(scenario())
    assert statuses == [401, 200]
    assert [request.body for request in standin.received] == [compressed]


HEAD = b"POST /hooks/stripe HTTP/1.1\r\nHost: gateway\r\n"
MALFORMED_REQUESTS = {
    "length and chunked": HEAD
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad chunk size": HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "obs-fold": HEAD + b"X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
    "NUL in header": HEAD + b"X-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "100 kB header": HEAD + b"X-Long: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n",
    "500 headers": HEAD + b"".join(b"X-%d: a\r\n" % i for i in range(500)) + b"\r\n",
    # The start of a TLS 1.2 ClientHello record, as a client that expects HTTPS sends it.
    "TLS handshake": bytes.fromhex("160301020001") + b"\x00" * 64,
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
}
MALFORMED_ROUNDS = 3


async def send_raw(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection and return the response up to the server's close."""
    reader, writer = await asyncio.open_connection(support.LOOPBACK, port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


def test_malformed_http_logged_once(redis_server, caplog):
    """Requests aiohttp cannot parse each get 400 and one rate-limited gateway line."""
    caplog.set_level(logging.DEBUG)

    async def scenario():
        async with running_standin() as standin, running_gateway(redis_server, standin) as server:
            responses = []
            for _ in range(MALFORMED_ROUNDS):
                for name, request in MALFORMED_REQUESTS.items():
                    responses.append((name, await send_raw(server.port, request)))
            return responses, standin, server.metrics

    responses, standin, metrics = asyncio.run(scenario())
    for name, response in responses:
        status_line = response.split(b"\r\n", 1)[0]
        assert status_line.split(b" ")[1:2] == [b"400"], (name, status_line)
    assert standin.received == []
    sent = MALFORMED_ROUNDS * len(MALFORMED_REQUESTS)
    assert metrics.value("none", "bad_http") == sent
    lines = request_lines(caplog.records, "bad_http")
    assert len(lines) == REPEAT_LINES_PER_WINDOW
    for line in lines:
        assert line.startswith("route=none outcome=bad_http status=400 client=127.0.0.1 "), line
    assert tracebacks(caplog.records) == []
    assert [record for record in caplog.records if record.name == "aiohttp.server"] == []


def test_internal_error_keeps_traceback(redis_server, caplog):
    """An error the gateway does not expect is still logged by aiohttp, with its traceback."""
    caplog.set_level(logging.INFO)

    async def broken_ping():
        raise ZeroDivisionError("deliberate failure")

    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            server.dedup.ping = broken_ping
            async with session.get(gateway_url(server, "/healthz")) as response:
                return response.status

    assert asyncio.run(scenario()) == 500
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.name for record in errors] == ["aiohttp.server"]
    assert errors[0].exc_info[0] is ZeroDivisionError
