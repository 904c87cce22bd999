"""Stripe webhook scheme."""

from collections.abc import Mapping, Sequence

from ..config import Secret
from .base import (
    Event,
    Verified,
    event_id_from,
    field_at,
    hex_digests,
    matches_any,
    parse_json_object,
)

MAX_TIMESTAMP_DIGITS = 12


class Stripe:
    """Stripe webhooks, as Stripe's own library checks them (stripe-python 16.1.0,
    ``stripe/_webhook.py``, ``WebhookSignature.verify_header``).

    ``Stripe-Signature`` is ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]``, where each v1 is the
    lowercase hex HMAC-SHA256 of ``<t>.`` followed by the raw body. Any v1 matching any active
    secret is accepted. Other schemes in the header (such as v0) are ignored. The signed ``t``
    is the timestamp for freshness. The event id is the body's ``id`` (``evt_...``).
    """

    name = "stripe"
    header = "Stripe-Signature"
    forwarded_headers = ()

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[Secret]
    ) -> Verified | None:
        parsed = _parse_signature_header(headers.get(self.header, ""))
        if parsed is None:
            return None
        timestamp, signatures = parsed
        expected = hex_digests(secrets, timestamp.encode() + b"." + body)
        # Evaluate every candidate so timing does not reveal which one matched.
        results = [matches_any(signature, expected) for signature in signatures]
        if not any(results):
            return None
        return Verified(timestamp=float(timestamp))

    def extract(self, headers: Mapping[str, str], body: bytes, verified: Verified) -> Event:
        document = parse_json_object(body)
        return Event(
            event_id_from(field_at(document, ("id",)), "body field id"), verified.timestamp
        )


def _parse_signature_header(value: str) -> tuple[str, list[str]] | None:
    """Return the ``t`` text and the v1 signatures, or None if the header is unusable."""
    timestamps = []
    signatures = []
    for item in value.split(","):
        key, separator, item_value = item.strip().partition("=")
        if not separator:
            continue
        if key == "t":
            timestamps.append(item_value)
        elif key == "v1":
            signatures.append(item_value)
    if len(timestamps) != 1 or not signatures:
        return None
    timestamp = timestamps[0]
    # Digits only: int() would also accept "+1", " 1" or "1_0", each a different signed text.
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        return None
    return timestamp, signatures
