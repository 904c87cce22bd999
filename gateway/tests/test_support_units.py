"""Client address, log line and repeat limiter, metrics text and the health check command."""

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

from aiohttp import web

from gateway.webhook_gateway.client_address import client_address
from gateway.webhook_gateway.healthcheck import check
from gateway.webhook_gateway.logs import (
    RepeatLimiter,
    RequestLogger,
    RequestRecord,
    format_record,
)
from gateway.webhook_gateway.metrics import Metrics

from . import support


def test_client_address_takes_trusted_hop():
    assert client_address("203.0.113.9, 198.51.100.7", "172.18.0.5", 1) == "198.51.100.7"
    assert client_address("203.0.113.9, 198.51.100.7", "172.18.0.5", 2) == "203.0.113.9"
    assert client_address("203.0.113.9", "172.18.0.5", 0) == "172.18.0.5"


def test_client_address_falls_back_to_peer():
    assert client_address(None, "172.18.0.5", 1) == "172.18.0.5"
    assert client_address("198.51.100.7", "172.18.0.5", 2) == "172.18.0.5"
    assert client_address("not-an-ip\nroute=forged", "172.18.0.5", 1) == "unknown"
    assert client_address("2001:DB8::1", None, 1) == "2001:db8::1"


def test_log_line_escapes_provider_values():
    record = RequestRecord(
        route="stripe",
        outcome="malformed",
        status=400,
        client="192.0.2.1",
        duration_ms=1.5,
        event_id='evt"\nroute=forged',
        detail="body field id is missing",
    )
    line = format_record(record)
    assert "\n" not in line
    assert line == (
        "route=stripe outcome=malformed status=400 client=192.0.2.1 "
        r'event_id="evt\"\nroute=forged" duration_ms=1.5 detail="body field id is missing"'
    )


def test_repeat_limiter_counts_held_back_lines():
    now = [0.0]
    limiter = RepeatLimiter(lines_per_window=2, window_seconds=10, clock=lambda: now[0])
    key = ("stripe", "bad_signature")
    assert [limiter.admit(key) for _ in range(5)] == [
        (True, 0),
        (True, 0),
        (False, 0),
        (False, 0),
        (False, 0),
    ]
    now[0] = 10.0
    assert limiter.admit(key) == (True, 3)
    assert limiter.admit(("stripe", "stale")) == (True, 0)


def test_request_logger_limits_rejections_only(caplog):
    caplog.set_level(logging.INFO, logger="webhook_gateway")
    request_logger = RequestLogger(RepeatLimiter(lines_per_window=3, window_seconds=60))
    for outcome in ["bad_signature"] * 10 + ["forwarded"] * 10:
        request_logger.log(RequestRecord("stripe", outcome, 401, "192.0.2.1", 1.0))
    outcomes = [record.getMessage().split()[1] for record in caplog.records]
    assert outcomes.count("outcome=bad_signature") == 3
    assert outcomes.count("outcome=forwarded") == 10


def test_metrics_text_format():
    metrics = Metrics()
    metrics.count("stripe", "forwarded")
    metrics.count("stripe", "forwarded")
    metrics.count("none", "not_found")
    assert metrics.render().splitlines() == [
        "# HELP webhook_gateway_requests_total Webhook requests handled, by route and outcome.",
        "# TYPE webhook_gateway_requests_total counter",
        'webhook_gateway_requests_total{route="none",outcome="not_found"} 1',
        'webhook_gateway_requests_total{route="stripe",outcome="forwarded"} 2',
    ]


def serve_health(status: int):
    """Run ``check`` against a loopback stand-in whose /healthz responds ``status``."""

    async def scenario():
        async def health(request):
            return web.Response(status=status)

        app = web.Application()
        app.router.add_get("/healthz", health)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, support.LOOPBACK, 0).start()
        port = runner.addresses[0][1]
        try:
            return await asyncio.to_thread(check, str(port), 2.0)
        finally:
            await runner.cleanup()

    return asyncio.run(scenario())


def test_healthcheck_exit_status():
    assert serve_health(200) == 0
    assert serve_health(503) == 1
    assert check(str(support.free_port()), 1.0) == 1


def test_healthcheck_runs_as_module():
    """The container's health command needs no curl and no service configuration."""
    repository = Path(__file__).resolve().parents[2]
    completed = subprocess.run(  # noqa: S603 - fixed command
        [sys.executable, "-m", "gateway.webhook_gateway.healthcheck"],
        cwd=repository,
        env={"GATEWAY_PORT": str(support.free_port())},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 1
    assert "healthcheck: http://127.0.0.1:" in completed.stderr
