"""Hostile requests to the real gateway: each gets a generic 4xx and one log line.

Every test here also checks that no record carries a traceback, because a traceback per
request would bypass the rate limit of the request log.
"""

import asyncio
import logging
import time

import aiohttp

from . import support
from .test_end_to_end import SECRETS, gateway_url, running_gateway, running_standin


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
