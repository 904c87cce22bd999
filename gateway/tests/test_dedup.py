"""The dedup state machine against a real redis-server on loopback."""

import asyncio

from redis.asyncio import Redis

from gateway.webhook_gateway.dedup import DONE, ClaimResult, DedupStore

LEASE_SECONDS = 1
DONE_TTL_SECONDS = 3600


def run_with_store(redis_server, scenario):
    async def main():
        client = Redis(
            host=redis_server.host, port=redis_server.port, password=redis_server.password
        )
        try:
            return await scenario(DedupStore(client, LEASE_SECONDS, DONE_TTL_SECONDS), client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_second_claim_sees_in_flight(redis_server):
    async def scenario(store, client):
        first = await store.claim("stripe", "evt_1")
        second = await store.claim("stripe", "evt_1")
        other_route = await store.claim("github", "evt_1")
        return first, second, other_route

    first, second, other_route = run_with_store(redis_server, scenario)
    assert first[0] is ClaimResult.CLAIMED
    assert second == (ClaimResult.IN_FLIGHT, None)
    assert other_route[0] is ClaimResult.CLAIMED


def test_concurrent_claims_have_one_winner(redis_server):
    async def scenario(store, client):
        return await asyncio.gather(*(store.claim("stripe", "evt_race") for _ in range(50)))

    results = run_with_store(redis_server, scenario)
    states = [state for state, _ in results]
    assert states.count(ClaimResult.CLAIMED) == 1
    assert states.count(ClaimResult.IN_FLIGHT) == 49


def test_done_event_reports_done_with_long_ttl(redis_server):
    async def scenario(store, client):
        _, claim = await store.claim("stripe", "evt_2")
        await store.mark_done(claim)
        key = store.key_for("stripe", "evt_2")
        return await store.claim("stripe", "evt_2"), await client.get(key), await client.ttl(key)

    again, value, ttl = run_with_store(redis_server, scenario)
    assert again == (ClaimResult.DONE, None)
    assert value == DONE.encode()
    assert DONE_TTL_SECONDS - 5 <= ttl <= DONE_TTL_SECONDS


def test_released_claim_can_be_claimed_again(redis_server):
    async def scenario(store, client):
        _, claim = await store.claim("stripe", "evt_3")
        await store.release(claim)
        return await store.claim("stripe", "evt_3")

    state, claim = run_with_store(redis_server, scenario)
    assert state is ClaimResult.CLAIMED
    assert claim is not None


def test_stale_release_keeps_newer_state(redis_server):
    """A release after the lease expired must not delete a newer claim or a done record."""

    async def scenario(store, client):
        _, old_claim = await store.claim("stripe", "evt_4")
        await asyncio.sleep(LEASE_SECONDS + 0.2)
        state, new_claim = await store.claim("stripe", "evt_4")
        await store.release(old_claim)
        still_in_flight = await store.claim("stripe", "evt_4")
        await store.mark_done(new_claim)
        await store.release(old_claim)
        return state, still_in_flight, await store.claim("stripe", "evt_4")

    after_expiry, still_in_flight, finally_done = run_with_store(redis_server, scenario)
    assert after_expiry is ClaimResult.CLAIMED
    assert still_in_flight == (ClaimResult.IN_FLIGHT, None)
    assert finally_done == (ClaimResult.DONE, None)


def test_key_hashes_event_id(redis_server):
    key = DedupStore.key_for("stripe", "evt_\n secret-looking id")
    assert key.startswith("webhook-gateway:dedup:stripe:")
    assert "evt_" not in key
    assert len(key) == len("webhook-gateway:dedup:stripe:") + 64
