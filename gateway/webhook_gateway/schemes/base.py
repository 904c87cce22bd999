"""Shared parts of the signature schemes: the scheme interface, errors and helpers.

A scheme checks a request in two steps. ``verify`` checks the signature over the raw body
bytes and returns a ``Verified``. Only then does ``extract`` parse the body for the event id
and timestamp. So the gateway never parses JSON that failed authentication.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..config import Secret


class MalformedEvent(Exception):
    """A correctly signed request whose body or headers lack a usable event id or timestamp."""


@dataclass(frozen=True)
class Verified:
    """Signature check result. ``timestamp`` is a signed Unix time in seconds, when the scheme
    signs one outside the body (Stripe's ``t``)."""

    timestamp: float | None = None


@dataclass(frozen=True)
class Event:
    """A verified event: its provider id and, for timestamped schemes, its Unix time in seconds."""

    event_id: str
    timestamp: float | None


class Scheme(Protocol):
    """A provider's signature scheme."""

    name: str
    # Request headers n8n receives besides Content-Type: event ids and types only. A signature
    # header is never listed, because n8n stores the headers of every execution and needs no
    # proof once the gateway has checked it.
    forwarded_headers: tuple[str, ...]

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[Secret]
    ) -> Verified | None:
        """Return a Verified if the signature matches any active secret, else None."""
        ...

    def extract(self, headers: Mapping[str, str], body: bytes, verified: Verified) -> Event:
        """Return the event id and timestamp of a verified request, or raise MalformedEvent."""
        ...


def hmac_sha256(secret: Secret, message: bytes) -> bytes:
    return hmac.new(secret.reveal(), message, hashlib.sha256).digest()


def matches_any(received: str, expected: Sequence[bytes]) -> bool:
    """Compare ``received`` with each expected ASCII value in constant time.

    Every comparison runs, so the time taken does not reveal which secret matched.
    """
    # surrogatepass keeps the encoding one-to-one, so no two header values compare equal.
    received_bytes = received.encode("utf-8", errors="surrogatepass")
    results = [hmac.compare_digest(received_bytes, value) for value in expected]
    return any(results)


def hex_digests(secrets: Sequence[Secret], message: bytes) -> list[bytes]:
    # Lowercase hex, as Python's hexdigest(), GitHub and stripe-python produce it. An
    # uppercase signature is rejected, so each digest has exactly one accepted spelling.
    return [hmac_sha256(secret, message).hex().encode() for secret in secrets]


def base64_digests(secrets: Sequence[Secret], message: bytes) -> list[bytes]:
    # Canonical padded base64. Comparing encoded text, not decoded bytes, rejects variants
    # that decode to the same digest (such as changed padding bits in the last character).
    return [base64.b64encode(hmac_sha256(secret, message)) for secret in secrets]


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Return the body's JSON object, or raise MalformedEvent for any body json cannot parse.

    Besides JSONDecodeError, json.loads raises UnicodeDecodeError for bytes that do not decode,
    ValueError for an integer of more than 4300 digits (Python's int conversion limit), and
    RecursionError for nesting deeper than the interpreter's recursion limit. Each is a fault
    of the sender, so each is a 400.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        # ValueError covers JSONDecodeError and UnicodeDecodeError. The type names the cause
        # in the log line without showing any of the body.
        raise MalformedEvent(f"body is not valid JSON ({type(error).__name__})") from error
    if not isinstance(document, dict):
        raise MalformedEvent("body is not a JSON object")
    return document


def field_at(document: dict[str, Any], path: Sequence[str]) -> Any:
    value: Any = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise MalformedEvent(f"body has no field {'.'.join(path)}")
        value = value[key]
    return value


def event_id_from(value: Any, source: str) -> str:
    """Return a JSON string or integer as an event id, or raise MalformedEvent."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedEvent(f"{source} is not a string or integer")
    text = str(value)
    # Printable ASCII only: the id goes into a header to n8n and into log lines.
    if not text or len(text) > 256 or not (text.isascii() and text.isprintable()):
        raise MalformedEvent(f"{source} is empty, over 256 characters or not printable ASCII")
    return text
