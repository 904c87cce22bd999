"""Fixtures: a private redis-server per test module, on a loopback port."""

import os
from collections.abc import Iterator

import pytest

from .support import RedisProcess, redis_server_binary


@pytest.fixture(scope="module")
def redis_process() -> Iterator[RedisProcess]:
    """Start redis-server for the module, or skip (fail under HN8N_REQUIRE_TOOLS=1)."""
    binary = redis_server_binary()
    if binary is None:
        message = "redis-server not found: install it with apt-get install redis-server"
        if os.environ.get("HN8N_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    process = RedisProcess(binary)
    process.start()
    yield process
    process.close()


@pytest.fixture
def redis_server(redis_process: RedisProcess) -> RedisProcess:
    """The module's redis-server, running and emptied before the test."""
    if not redis_process.ping():
        redis_process.start()
    _flush_all(redis_process)
    return redis_process


def _flush_all(process: RedisProcess) -> None:
    import redis

    client = redis.Redis(host=process.host, port=process.port, password=process.password)
    try:
        client.flushall()
    finally:
        client.close()
