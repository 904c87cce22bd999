"""Once-only delivery: a per-event record in Redis that is claimed, then marked done.

State machine of the key ``webhook-gateway:dedup:<route>:<sha256(event id)>``:

- absent: the event was never forwarded, or its last forward failed. ``claim`` sets the key
  to ``processing:<token>`` with a lease (SET only if absent, in one Lua script) and the
  request forwards the event.
- ``processing:<token>``: one request is forwarding the event. Any other copy gets
  ``IN_FLIGHT`` and the gateway responds 409, which providers retry later. So two copies that
  arrive at the same moment are forwarded once.
- forward succeeded: ``mark_done`` sets the key to ``done`` with the long TTL. Copies then get
  ``DONE``, and the gateway responds 200 without forwarding.
- forward failed: ``release`` deletes the key if it still contains this request's token, so the
  provider's retry claims it again and is forwarded.
- the gateway stopped mid-forward: the lease expires and the next retry claims the event.

The lease outlives the forward timeout (checked at start-up), so a claim cannot expire while
its forward still runs. Limits: if n8n accepted an event but the gateway saw a timeout, or if
Redis fails between the forward and ``mark_done``, a later retry is forwarded again. Both are
the at-least-once edge that a gateway in front of n8n cannot close alone.
"""

import enum
import hashlib
import secrets

from redis.asyncio import Redis

KEY_PREFIX = "webhook-gateway:dedup:"
DONE = "done"
PROCESSING_PREFIX = "processing:"

# Returns "claimed" after setting the key, or the value that was already there.
_CLAIM_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current then
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'
"""

# Deletes the key only while it contains this request's claim, so a late release cannot undo a
# "done" or another request's newer claim.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class ClaimResult(enum.Enum):
    CLAIMED = "claimed"
    IN_FLIGHT = "in_flight"
    DONE = "done"


class Claim:
    """This request's claim on one event, with the key and token needed to finish it."""

    def __init__(self, key: str, token: str) -> None:
        self.key = key
        self.token = token


class DedupStore:
    """The dedup records in Redis. Redis errors propagate as redis.exceptions.RedisError."""

    def __init__(self, redis: Redis, lease_seconds: int, done_ttl_seconds: int) -> None:
        self.redis = redis
        self.lease_ms = lease_seconds * 1000
        self.done_ttl_seconds = done_ttl_seconds
        self._claim = redis.register_script(_CLAIM_SCRIPT)
        self._release = redis.register_script(_RELEASE_SCRIPT)

    @staticmethod
    def key_for(route_name: str, event_id: str) -> str:
        # Hashing bounds the key length and keeps provider-chosen text out of key names.
        digest = hashlib.sha256(event_id.encode("utf-8", errors="surrogatepass")).hexdigest()
        return f"{KEY_PREFIX}{route_name}:{digest}"

    async def claim(self, route_name: str, event_id: str) -> tuple[ClaimResult, Claim | None]:
        """Claim the event for forwarding, or report that it is in flight or done."""
        key = self.key_for(route_name, event_id)
        token = PROCESSING_PREFIX + secrets.token_hex(16)
        reply = await self._claim(keys=[key], args=[token, self.lease_ms])
        value = reply.decode() if isinstance(reply, bytes) else str(reply)
        if value == "claimed":
            return ClaimResult.CLAIMED, Claim(key, token)
        if value == DONE:
            return ClaimResult.DONE, None
        return ClaimResult.IN_FLIGHT, None

    async def mark_done(self, claim: Claim) -> None:
        # Unconditional, because the event reached n8n even if another request claimed it since.
        await self.redis.set(claim.key, DONE, ex=self.done_ttl_seconds)

    async def release(self, claim: Claim) -> None:
        await self._release(keys=[claim.key], args=[claim.token])

    async def ping(self) -> bool:
        return bool(await self.redis.ping())
