"""Generic HMAC-SHA256 scheme for providers without a dedicated scheme."""

from collections.abc import Mapping, Sequence

from ..config import HmacOptions, Secret
from .base import (
    Event,
    MalformedEvent,
    Verified,
    base64_digests,
    event_id_from,
    field_at,
    hex_digests,
    matches_any,
    parse_json_object,
)


class GenericHmac:
    """HMAC-SHA256 of the raw body in a configured header, as hex or base64.

    Hex must be lowercase and base64 canonical with padding. An optional prefix (such as
    ``sha256=``) must be present when configured. The event id comes from a JSON body field
    (dotted path) or a header. No timestamp is signed, so the dedup record is the only replay
    protection.
    """

    name = "hmac"

    def __init__(self, options: HmacOptions) -> None:
        self.options = options
        self.forwarded_headers = (options.id_header,) if options.id_header else ()

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[Secret]
    ) -> Verified | None:
        signature = headers.get(self.options.header, "")
        if not signature.startswith(self.options.prefix):
            return None
        signature = signature[len(self.options.prefix) :]
        if self.options.encoding == "hex":
            expected = hex_digests(secrets, body)
        else:
            expected = base64_digests(secrets, body)
        if not signature or not matches_any(signature, expected):
            return None
        return Verified()

    def extract(self, headers: Mapping[str, str], body: bytes, verified: Verified) -> Event:
        if self.options.id_header:
            value = headers.get(self.options.id_header)
            if value is None:
                raise MalformedEvent(f"header {self.options.id_header} is missing")
            return Event(event_id_from(value, f"header {self.options.id_header}"), None)
        path = self.options.id_field or ()
        value = field_at(parse_json_object(body), path)
        return Event(event_id_from(value, f"body field {'.'.join(path)}"), None)
