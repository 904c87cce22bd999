"""Flutterwave webhook schemes: v4 (HMAC signature) and v3 (static secret hash)."""

from collections.abc import Mapping, Sequence

from ..config import Secret
from .base import (
    Event,
    MalformedEvent,
    Verified,
    base64_digests,
    event_id_from,
    field_at,
    matches_any,
    parse_json_object,
)


class FlutterwaveV4:
    """Flutterwave v4 webhooks (https://developer.flutterwave.com/docs/webhooks).

    The ``flutterwave-signature`` header is the base64 HMAC-SHA256 of the raw body, keyed with
    the secret hash set on the dashboard. The body's ``id`` is the webhook id (such as
    ``wbk_W5p6ktwU0jQ8RO4By860``). Its ``timestamp`` is Unix time in milliseconds: the
    documented sample payload has ``"timestamp": 1735116884019``.

    NOTE: an earlier copy of that page stated that the header carries the secret hash itself. The
    HMAC form implemented here is the one current integrations verify against. If Flutterwave
    keeps the body's timestamp unchanged on its retries (3, at 30-minute intervals),
    max_age_seconds must cover 90 minutes or the retries are rejected as stale.
    """

    name = "flutterwave-v4"
    header = "flutterwave-signature"
    forwarded_headers = ()

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[Secret]
    ) -> Verified | None:
        signature = headers.get(self.header)
        if not signature or not matches_any(signature, base64_digests(secrets, body)):
            return None
        return Verified()

    def extract(self, headers: Mapping[str, str], body: bytes, verified: Verified) -> Event:
        document = parse_json_object(body)
        event_id = event_id_from(field_at(document, ("id",)), "body field id")
        milliseconds = field_at(document, ("timestamp",))
        if isinstance(milliseconds, bool) or not isinstance(milliseconds, int) or milliseconds <= 0:
            raise MalformedEvent("body field timestamp is not a positive integer")
        return Event(event_id, milliseconds / 1000)


class FlutterwaveV3:
    """Flutterwave v3 webhooks (https://developer.flutterwave.com/v3.0/docs/webhooks).

    The ``verif-hash`` header carries the dashboard's secret hash itself, not a signature of
    the body, so anyone who captures one request can forge others. There is no timestamp, so the
    dedup record is the only replay protection. The event id is the body's ``data.id``.
    """

    name = "flutterwave-v3"
    header = "verif-hash"
    # The header is the secret itself, so it must never leave the gateway.
    forwarded_headers = ()

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[Secret]
    ) -> Verified | None:
        received = headers.get(self.header)
        if not received or not matches_any(received, [secret.reveal() for secret in secrets]):
            return None
        return Verified()

    def extract(self, headers: Mapping[str, str], body: bytes, verified: Verified) -> Event:
        document = parse_json_object(body)
        return Event(event_id_from(field_at(document, ("data", "id")), "body field data.id"), None)
