"""Benchmark the gateway's added cost on loopback: ``python -m gateway.bench`` from the repo root.

One process runs the client, the gateway and the n8n stand-in on one event loop, with a
private redis-server beside it. The script sends N verified Stripe events through the gateway
and N requests straight to the stand-in, then prints requests per second and latency
percentiles for both, and their ratios. Every gateway request carries a new event id, so each
one is claimed, forwarded and marked done (the full path, no duplicate shortcut).

Run time is bounded: each phase stops after PHASE_TIMEOUT_SECONDS even if N is not reached.
"""

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import time

import aiohttp

from gateway.tests import support
from gateway.webhook_gateway.config import load_settings
from gateway.webhook_gateway.server import LOG_FORMAT, GatewayServer

PHASE_TIMEOUT_SECONDS = 20.0
WARMUP_REQUESTS = 100
SECRET = "whsec_benchmark_secret"  # noqa: S105 - a throwaway value for a loopback run
ROUTE = {
    "name": "stripe",
    "public_path": "/hooks/stripe",
    "n8n_path": "/webhook/stripe-events",
    "scheme": "stripe",
    "max_age_seconds": 300,
}


def signed_requests(count: int, prefix: str) -> list[tuple[bytes, dict[str, str]]]:
    now = int(time.time())
    requests = []
    for index in range(count):
        body = json.dumps(
            {"id": f"evt_{prefix}_{index}", "object": "event", "amount": 2500}
        ).encode()
        requests.append((body, support.stripe_headers(SECRET, body, now)))
    return requests


async def run_phase(session, url, requests, concurrency):
    """Send the requests with ``concurrency`` workers.

    Return the latencies and the wall time in seconds, and the count of non-200 responses.
    """
    queue = list(reversed(requests))
    latencies = []
    failures = 0
    deadline = time.perf_counter() + PHASE_TIMEOUT_SECONDS

    async def worker():
        nonlocal failures
        while queue and time.perf_counter() < deadline:
            body, headers = queue.pop()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, failures


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(name: str, latencies: list[float], wall: float) -> dict[str, float]:
    return {
        "name": name,
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


async def benchmark(count: int, concurrency: int) -> tuple[dict, dict, int]:
    redis = support.RedisProcess(support.redis_server_binary() or "redis-server")
    redis.start()
    standin = support.N8nStandIn()
    await standin.start()
    environment = support.gateway_environment([ROUTE], {"stripe": [SECRET]}, standin.url, redis)
    server = GatewayServer(load_settings(environment))
    await server.start()
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency)
        ) as session:
            direct_url = standin.url + ROUTE["n8n_path"]
            gateway_url = f"http://{support.LOOPBACK}:{server.port}{ROUTE['public_path']}"
            await run_phase(
                session, direct_url, signed_requests(WARMUP_REQUESTS, "wd"), concurrency
            )
            await run_phase(
                session, gateway_url, signed_requests(WARMUP_REQUESTS, "wg"), concurrency
            )

            direct_latencies, direct_wall, _ = await run_phase(
                session, direct_url, signed_requests(count, "d"), concurrency
            )
            direct = summary("direct", direct_latencies, direct_wall)
            gateway_latencies, gateway_wall, failures = await run_phase(
                session, gateway_url, signed_requests(count, "g"), concurrency
            )
            gateway = summary("gateway", gateway_latencies, gateway_wall)
    finally:
        await server.stop()
        await standin.stop()
        redis.close()
    return direct, gateway, failures


def machine_description() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, {platform.system()}"
    )


def report(direct: dict, gateway: dict, failures: int, concurrency: int) -> str:
    lines = [
        f"machine: {machine_description()}",
        f"concurrency: {concurrency}, gateway non-200 responses: {failures}",
        "",
        "| path | requests | req/s | p50 ms | p99 ms | mean ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in (direct, gateway):
        lines.append(
            f"| {row['name']} | {row['requests']} | {row['rps']:.0f} | {row['p50_ms']:.2f} "
            f"| {row['p99_ms']:.2f} | {row['mean_ms']:.2f} |"
        )
    lines += [
        "",
        f"throughput ratio (gateway / direct): {gateway['rps'] / direct['rps']:.2f}",
        f"p50 latency ratio: {gateway['p50_ms'] / direct['p50_ms']:.2f} "
        f"(added {gateway['p50_ms'] - direct['p50_ms']:.2f} ms)",
        f"p99 latency ratio: {gateway['p99_ms'] / direct['p99_ms']:.2f} "
        f"(added {gateway['p99_ms'] - direct['p99_ms']:.2f} ms)",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per phase (default 2000)"
    )
    parser.add_argument("--concurrency", type=int, default=20, help="parallel senders (default 20)")
    arguments = parser.parse_args()
    if support.redis_server_binary() is None:
        print(
            "redis-server not found: install it with apt-get install redis-server", file=sys.stderr
        )
        return 1
    # The gateway logs one INFO line per request, as in production, but to a discarded stream.
    with open(os.devnull, "w") as sink:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sink)
        direct, gateway, failures = asyncio.run(
            benchmark(arguments.requests, arguments.concurrency)
        )
    print(report(direct, gateway, failures, arguments.concurrency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
