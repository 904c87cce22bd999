"""The real gateway on loopback, with a real redis-server and a recording n8n stand-in."""

import asyncio
import json
import logging
import random
import time
from contextlib import asynccontextmanager

import aiohttp

from gateway.webhook_gateway.config import load_settings
from gateway.webhook_gateway.forwarder import EVENT_ID_HEADER, VERIFIED_HEADER
from gateway.webhook_gateway.server import GatewayServer

from . import support

SECRETS = {
    "flutterwave": ["flutterwave-current-hash", "flutterwave-previous-hash"],
    "stripe": ["whsec_stripe_current"],
    "github": ["github-webhook-secret"],
}
ROUTES = [
    {
        "name": "flutterwave",
        "public_path": "/hooks/flutterwave",
        "n8n_path": "/webhook/flutterwave-payments",
        "scheme": "flutterwave-v4",
        "max_age_seconds": 300,
    },
    {
        "name": "stripe",
        "public_path": "/hooks/stripe",
        "n8n_path": "/webhook/stripe-events",
        "scheme": "stripe",
        "max_age_seconds": 300,
        "max_future_seconds": 30,
    },
    {
        "name": "github",
        "public_path": "/hooks/github",
        "n8n_path": "/webhook/github-events",
        "scheme": "github",
    },
]
BURST_SIZE = 200
CONCURRENCY = 20
MAX_ATTEMPTS = 60
BURST_TIMEOUT_SECONDS = 90
STALE_SECONDS = 3600


@asynccontextmanager
async def running_gateway(redis_server, standin, **overrides):
    environment = support.gateway_environment(
        ROUTES, SECRETS, standin.url, redis_server, **overrides
    )
    server = GatewayServer(load_settings(environment))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def running_standin(**options):
    standin = support.N8nStandIn(**options)
    await standin.start()
    try:
        yield standin
    finally:
        await standin.stop()


def gateway_url(server, path):
    return f"http://{support.LOOPBACK}:{server.port}{path}"


def forwarded_ids(requests):
    return [request.headers[EVENT_ID_HEADER] for request in requests]


class Delivery:
    """One provider notification, signed the way its provider signs each attempt."""

    def __init__(self, kind: str, event_id: str, valid: bool) -> None:
        self.kind = kind
        self.event_id = event_id
        self.valid = valid
        self.sent_at = time.time() - (STALE_SECONDS if kind.startswith("stale") else 0)

    def request(self) -> tuple[str, bytes, dict[str, str]]:
        if self.kind in ("flutterwave", "stale-flutterwave", "unsigned"):
            body = support.flutterwave_v4_body(self.event_id, self.sent_at)
            headers = support.flutterwave_v4_headers(SECRETS["flutterwave"][1], body)
            if self.kind == "unsigned":
                headers.pop("flutterwave-signature")
            return "/hooks/flutterwave", body, headers
        if self.kind in ("stripe", "stale-stripe", "forged-stripe"):
            body = json.dumps({"id": self.event_id, "object": "event"}).encode()
            # Each attempt is signed with the current time, so a late retry is not stale.
            timestamp = int(time.time()) if self.kind == "stripe" else int(self.sent_at)
            secret = (
                "whsec_not_the_secret" if self.kind == "forged-stripe" else SECRETS["stripe"][0]
            )
            return "/hooks/stripe", body, support.stripe_headers(secret, body, timestamp)
        body = json.dumps({"zen": "Keep it logically awesome."}).encode()
        return (
            "/hooks/github",
            body,
            support.github_headers(SECRETS["github"][0], body, self.event_id),
        )


def burst_plan(rng: random.Random) -> list[Delivery]:
    valid = [Delivery("flutterwave", f"wbk_{i}", True) for i in range(40)]
    valid += [Delivery("stripe", f"evt_{i}", True) for i in range(30)]
    valid += [Delivery("github", f"gh-{i}", True) for i in range(30)]
    duplicates = [rng.choice(valid) for _ in range(40)]
    rejected = [Delivery("unsigned", f"bad-unsigned-{i}", False) for i in range(15)]
    rejected += [Delivery("forged-stripe", f"bad-forged-{i}", False) for i in range(15)]
    rejected += [Delivery("stale-flutterwave", f"stale-wbk-{i}", False) for i in range(15)]
    rejected += [Delivery("stale-stripe", f"stale-evt-{i}", False) for i in range(15)]
    plan = valid + duplicates + rejected
    rng.shuffle(plan)
    assert len(plan) == BURST_SIZE
    return plan


async def send_like_provider(session, server, delivery, limiter, rng):
    """Send a valid delivery until it gets a 2xx, a rejected one once. Return the statuses."""
    statuses = []
    for _ in range(MAX_ATTEMPTS if delivery.valid else 1):
        path, body, headers = delivery.request()
        async with (
            limiter,
            session.post(gateway_url(server, path), data=body, headers=headers) as response,
        ):
            statuses.append(response.status)
        if 200 <= statuses[-1] < 300:
            break
        await asyncio.sleep(rng.uniform(0.01, 0.1))
    return statuses


def flaky_until(recovered_after: int, rng: random.Random):
    """Fail about a third of the first ``recovered_after`` requests, then always succeed."""

    def decide(request):
        if recovered_after <= 0:
            return "ok"
        decide.count += 1
        if decide.count > recovered_after:
            return "ok"
        roll = rng.random()
        if roll < 0.03:
            return "stall"
        if roll < 0.33:
            return "error"
        return "ok"

    decide.count = 0
    return decide


def test_burst_forwards_each_valid_event_once(redis_server):
    rng = random.Random(20240601)  # noqa: S311 - a reproducible test plan, not a secret
    plan = burst_plan(rng)

    async def scenario():
        failure = flaky_until(recovered_after=150, rng=rng)
        async with (
            running_standin(failure=failure, stall_seconds=1.5) as standin,
            running_gateway(redis_server, standin, GATEWAY_N8N_TIMEOUT_SECONDS="1") as server,
            aiohttp.ClientSession() as session,
        ):
            limiter = asyncio.Semaphore(CONCURRENCY)
            sends = [send_like_provider(session, server, d, limiter, rng) for d in plan]
            statuses = await asyncio.wait_for(asyncio.gather(*sends), BURST_TIMEOUT_SECONDS)
            return statuses, standin, server.metrics

    statuses, standin, metrics = asyncio.run(scenario())

    valid_ids = {d.event_id for d in plan if d.valid}
    rejected_ids = {d.event_id for d in plan if not d.valid}
    accepted = forwarded_ids(standin.accepted)
    assert sorted(accepted) == sorted(valid_ids), "each valid event accepted exactly once"
    assert not rejected_ids & set(forwarded_ids(standin.received)), "no rejected event forwarded"
    for delivery, attempts in zip(plan, statuses, strict=True):
        if delivery.valid:
            assert attempts[-1] == 200, (delivery.event_id, attempts)
        else:
            assert attempts == [401], (delivery.event_id, attempts)
    # The burst must have exercised failed forwards, stalls and duplicates, or it proves little.
    assert (
        metrics.value("flutterwave", "n8n_rejected") + metrics.value("stripe", "n8n_rejected") > 0
    )
    assert sum(metrics.value(r["name"], "n8n_unavailable") for r in ROUTES) > 0
    assert sum(metrics.value(r["name"], "duplicate") for r in ROUTES) > 0
    assert metrics.value("flutterwave", "stale") == 15
    assert metrics.value("stripe", "stale") == 15


def test_simultaneous_copies_forwarded_once(redis_server):
    async def scenario():
        async with (
            running_standin(failure=lambda request: "ok") as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            delivery = Delivery("stripe", "evt_simultaneous", True)

            async def send():
                path, body, headers = delivery.request()
                async with session.post(gateway_url(server, path), data=body, headers=headers) as r:
                    return r.status

            first = await asyncio.gather(*(send() for _ in range(10)))
            second = await asyncio.gather(*(send() for _ in range(10)))
            return first, second, standin

    first, second, standin = asyncio.run(scenario())
    assert forwarded_ids(standin.received) == ["evt_simultaneous"]
    assert set(first) <= {200, 409}
    assert first.count(200) >= 1
    assert second == [200] * 10


def test_retry_after_failed_forward_is_forwarded(redis_server):
    answers = iter(["error", "stall", "ok", "ok"])

    async def scenario():
        async with (
            running_standin(failure=lambda request: next(answers), stall_seconds=1.5) as standin,
            running_gateway(redis_server, standin, GATEWAY_N8N_TIMEOUT_SECONDS="1") as server,
            aiohttp.ClientSession() as session,
        ):
            path, body, headers = Delivery("flutterwave", "wbk_retry", True).request()
            statuses = []
            for _ in range(4):
                async with session.post(gateway_url(server, path), data=body, headers=headers) as r:
                    statuses.append(r.status)
            return statuses, standin

    statuses, standin = asyncio.run(scenario())
    assert statuses == [502, 503, 200, 200]
    assert forwarded_ids(standin.received) == ["wbk_retry"] * 3
    assert forwarded_ids(standin.accepted) == ["wbk_retry"]


def test_redis_down_fails_closed(redis_server, caplog):
    caplog.set_level(logging.INFO, logger="webhook_gateway")

    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            async with session.get(gateway_url(server, "/healthz")) as response:
                healthy = response.status
            redis_server.stop()
            statuses = []
            for kind, event_id in [("flutterwave", "wbk_down"), ("github", "gh-down")]:
                path, body, headers = Delivery(kind, event_id, True).request()
                async with session.post(gateway_url(server, path), data=body, headers=headers) as r:
                    statuses.append(r.status)
            async with session.get(gateway_url(server, "/healthz")) as response:
                unhealthy = response.status
            redis_server.start()
            path, body, headers = Delivery("flutterwave", "wbk_down", True).request()
            async with session.post(gateway_url(server, path), data=body, headers=headers) as r:
                recovered = r.status
            return healthy, statuses, unhealthy, recovered, standin

    healthy, statuses, unhealthy, recovered, standin = asyncio.run(scenario())
    assert healthy == 200
    assert statuses == [503, 503]
    assert unhealthy == 503
    assert recovered == 200
    assert forwarded_ids(standin.received) == ["wbk_down"], "nothing forwarded while Redis was down"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    down_lines = [line for line in warnings if "outcome=dedup_unavailable" in line]
    assert len(down_lines) == 2
    assert all('error="redis: ConnectionError' in line for line in down_lines)
    assert any(line.startswith("health check failed: Redis unreachable") for line in warnings)


def test_http_rules_and_generic_answers(redis_server):
    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin, GATEWAY_MAX_BODY_BYTES="2048") as server,
            aiohttp.ClientSession() as session,
        ):
            results = {}

            async def record(name, method, path, **options):
                async with session.request(method, gateway_url(server, path), **options) as r:
                    results[name] = (r.status, await r.text(), dict(r.headers))

            signed_junk = support.flutterwave_v4_headers(SECRETS["flutterwave"][0], b"not json")

            async def oversized_stream():
                for _ in range(4):
                    yield b"x" * 1024

            await record("unknown", "POST", "/hooks/paypal", data=b"{}")
            await record("get", "GET", "/hooks/stripe")
            await record("declared_too_large", "POST", "/hooks/stripe", data=b"x" * 4096)
            await record("streamed_too_large", "POST", "/hooks/stripe", data=oversized_stream())
            await record("unsigned", "POST", "/hooks/stripe", data=b"{}")
            await record(
                "malformed", "POST", "/hooks/flutterwave", data=b"not json", headers=signed_junk
            )
            return results, standin

    results, standin = asyncio.run(scenario())
    assert results["unknown"][:2] == (404, "not found\n")
    assert results["get"][:2] == (405, "method not allowed\n")
    assert results["get"][2]["Allow"] == "POST"
    assert results["declared_too_large"][:2] == (413, "content too large\n")
    assert results["streamed_too_large"][0] == 413
    assert results["unsigned"][:2] == (401, "unauthorized\n")
    assert results["malformed"][:2] == (400, "bad request\n")
    assert all(result[2]["Server"] == "webhook-gateway" for result in results.values())
    assert standin.received == []


def test_forwarded_headers_are_allowlisted(redis_server):
    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            path, body, headers = Delivery("github", "gh-headers", True).request()
            headers.update(
                {
                    "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
                    VERIFIED_HEADER: "forged",
                    "Cookie": "session=abc",
                    "Authorization": "Bearer abc",
                }
            )
            async with session.post(gateway_url(server, path), data=body, headers=headers) as r:
                assert r.status == 200
            return standin.received[0], body

    received, body = asyncio.run(scenario())
    assert received.path == "/webhook/github-events"
    assert received.body == body
    assert received.headers[VERIFIED_HEADER] == "github"
    assert received.headers["X-Forwarded-For"] == "198.51.100.7"
    assert received.headers["X-GitHub-Delivery"] == "gh-headers"
    assert "X-Hub-Signature-256" not in received.headers
    assert "Cookie" not in received.headers
    assert "Authorization" not in received.headers


def test_metrics_served_on_own_port(redis_server):
    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            path, body, headers = Delivery("stripe", "evt_metrics", True).request()
            await session.post(gateway_url(server, path), data=body, headers=headers)
            await session.post(gateway_url(server, path), data=body, headers={})
            metrics_url = f"http://{support.LOOPBACK}:{server.metrics_port}/metrics"
            async with session.get(metrics_url) as response:
                text = await response.text()
                content_type = response.headers["Content-Type"]
            async with session.get(gateway_url(server, "/metrics")) as response:
                on_main_port = response.status
            return text, content_type, on_main_port

    text, content_type, on_main_port = asyncio.run(scenario())
    assert content_type.startswith("text/plain; version=0.0.4")
    assert "# TYPE webhook_gateway_requests_total counter" in text
    assert 'webhook_gateway_requests_total{route="stripe",outcome="forwarded"} 1' in text
    assert 'webhook_gateway_requests_total{route="stripe",outcome="bad_signature"} 1' in text
    assert on_main_port == 404


def test_request_log_lines_hide_secrets(redis_server, caplog):
    caplog.set_level(logging.INFO, logger="webhook_gateway")
    deliveries = [Delivery("flutterwave", "wbk_log", True), Delivery("unsigned", "bad-log", False)]
    sent = []

    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            for delivery in deliveries + deliveries[:1]:
                path, body, headers = delivery.request()
                sent.append((body, headers))
                async with session.post(
                    gateway_url(server, path),
                    data=body,
                    headers={**headers, "X-Forwarded-For": "192.0.2.10"},
                ):
                    pass

    asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("route=")]
    assert len(lines) == 3
    assert lines[0].startswith("route=flutterwave outcome=forwarded status=200 client=192.0.2.10")
    assert "event_id=wbk_log" in lines[0]
    assert lines[1].startswith("route=flutterwave outcome=bad_signature status=401")
    assert "event_id" not in lines[1]
    assert lines[2].startswith("route=flutterwave outcome=duplicate status=200")
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in SECRETS["flutterwave"]:
        assert secret not in everything
    for body, headers in sent:
        assert body.decode() not in everything
        for value in headers.values():
            if value != "application/json":
                assert value not in everything


def test_freshness_limits_on_both_sides(redis_server):
    """Stripe's route allows 300 s of age and 30 s of clock skew into the future."""
    now = time.time()
    cases = {
        "evt_fresh": int(now) - 290,
        "evt_old": int(now) - 310,
        "evt_near_future": int(now) + 20,
        "evt_far_future": int(now) + 40,
    }

    async def scenario():
        async with (
            running_standin() as standin,
            running_gateway(redis_server, standin) as server,
            aiohttp.ClientSession() as session,
        ):
            statuses = {}
            for event_id, timestamp in cases.items():
                body = json.dumps({"id": event_id, "object": "event"}).encode()
                headers = support.stripe_headers(SECRETS["stripe"][0], body, timestamp)
                async with session.post(
                    gateway_url(server, "/hooks/stripe"), data=body, headers=headers
                ) as r:
                    statuses[event_id] = r.status
            return statuses, standin, server.metrics

    statuses, standin, metrics = asyncio.run(scenario())
    assert statuses == {
        "evt_fresh": 200,
        "evt_old": 401,
        "evt_near_future": 200,
        "evt_far_future": 401,
    }
    assert sorted(forwarded_ids(standin.received)) == ["evt_fresh", "evt_near_future"]
    assert metrics.value("stripe", "stale") == 1
    assert metrics.value("stripe", "future") == 1


def test_client_disconnect_logged_once(redis_server, caplog):
    """A body cut short is counted and logged as one line, without a traceback."""
    caplog.set_level(logging.INFO)

    async def scenario():
        async with running_standin() as standin, running_gateway(redis_server, standin) as server:
            reader, writer = await asyncio.open_connection(support.LOOPBACK, server.port)
            writer.write(
                b"POST /hooks/stripe HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n\r\n{"
            )
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.close()
            await asyncio.sleep(0.3)
            return standin, server.metrics

    standin, metrics = asyncio.run(scenario())
    assert metrics.value("stripe", "incomplete_body") == 1
    assert standin.received == []
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    lines = [r.getMessage() for r in caplog.records if "outcome=incomplete_body" in r.getMessage()]
    assert len(lines) == 1
    assert 'detail="ConnectionResetError: Connection lost"' in lines[0]
