"""The client address, taken from X-Forwarded-For as far as the trusted proxies set it."""

import ipaddress

UNKNOWN = "unknown"


def client_address(forwarded_for: str | None, peer: str | None, trusted_hops: int) -> str:
    """Return the address of the client that connected to the outermost trusted proxy.

    Each trusted proxy appends the address it received the connection from, so with
    ``trusted_hops`` proxies the client is the ``trusted_hops``-th entry from the right.
    Entries further left were sent by the client and can be forged. With no trusted hops, or
    with fewer entries than hops, the TCP peer is returned instead. The result is always a
    normalised IP address or "unknown", so it is safe to log and to forward.
    """
    if trusted_hops > 0 and forwarded_for:
        entries = [entry.strip() for entry in forwarded_for.split(",")]
        if len(entries) >= trusted_hops:
            return _normalised(entries[-trusted_hops])
    return _normalised(peer)


def _normalised(value: str | None) -> str:
    if not value:
        return UNKNOWN
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return UNKNOWN
