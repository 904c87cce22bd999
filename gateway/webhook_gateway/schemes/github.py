"""GitHub webhook scheme."""

from collections.abc import Mapping, Sequence

from ..config import Secret
from .base import Event, MalformedEvent, Verified, event_id_from, hex_digests, matches_any


class GitHub:
    """GitHub webhooks
    (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).

    ``X-Hub-Signature-256`` is ``sha256=`` followed by the lowercase hex HMAC-SHA256 of the raw
    body. The event id is the ``X-GitHub-Delivery`` GUID. GitHub signs no timestamp, so the
    dedup record is the only replay protection.
    """

    name = "github"
    header = "X-Hub-Signature-256"
    prefix = "sha256="
    id_header = "X-GitHub-Delivery"
    forwarded_headers = (id_header, "X-GitHub-Event", "X-GitHub-Hook-ID")

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[Secret]
    ) -> Verified | None:
        signature = headers.get(self.header, "")
        if not signature.startswith(self.prefix):
            return None
        if not matches_any(signature.removeprefix(self.prefix), hex_digests(secrets, body)):
            return None
        return Verified()

    def extract(self, headers: Mapping[str, str], body: bytes, verified: Verified) -> Event:
        delivery = headers.get(self.id_header)
        if delivery is None:
            raise MalformedEvent(f"header {self.id_header} is missing")
        return Event(event_id_from(delivery, f"header {self.id_header}"), None)
