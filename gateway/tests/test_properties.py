"""Property tests: any one-byte change to a signed body, signature or timestamp is rejected.

Requests are signed by the independent signers in support.py, so each property also checks
that the gateway and the documented algorithm agree on unchanged requests.

Flutterwave v3 is covered for its header only: its ``verif-hash`` does not depend on the
body, so a changed body is accepted by design (see FlutterwaveV3).
"""

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from gateway.webhook_gateway.config import HmacOptions, Secret
from gateway.webhook_gateway.schemes import (
    FlutterwaveV3,
    FlutterwaveV4,
    GenericHmac,
    GitHub,
    Stripe,
)

from . import support

secrets_text = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
)
bodies = st.binary(min_size=1, max_size=512)
PRINTABLE = [chr(code) for code in range(0x20, 0x7F)]


@st.composite
def changed_bytes(draw, original: bytes) -> bytes:
    index = draw(st.integers(0, len(original) - 1))
    replacement = draw(st.integers(0, 255).filter(lambda value: value != original[index]))
    return original[:index] + bytes([replacement]) + original[index + 1 :]


@st.composite
def changed_text(draw, original: str) -> str:
    index = draw(st.integers(0, len(original) - 1))
    replacement = draw(st.sampled_from([c for c in PRINTABLE if c != original[index]]))
    return original[:index] + replacement + original[index + 1 :]


def accepted(scheme, header_values: dict[str, str], body: bytes, secret: str) -> bool:
    return scheme.verify(CIMultiDict(header_values), body, [Secret(secret.encode())]) is not None


@settings(deadline=None)
@given(secret=secrets_text, body=bodies, data=st.data())
def test_github_any_change_rejected(secret, body, data):
    signed = support.github_headers(secret, body, "delivery-1")
    assert accepted(GitHub(), signed, body, secret)

    assert not accepted(GitHub(), signed, data.draw(changed_bytes(body)), secret)
    header = data.draw(changed_text(signed["X-Hub-Signature-256"]))
    assert not accepted(GitHub(), {**signed, "X-Hub-Signature-256": header}, body, secret)


@settings(deadline=None)
@given(
    secret=secrets_text,
    body=bodies,
    timestamp=st.integers(1_000_000_000, 9_999_999_999),
    data=st.data(),
)
def test_stripe_any_change_rejected(secret, body, timestamp, data):
    signed = support.stripe_headers(secret, body, timestamp)
    assert accepted(Stripe(), signed, body, secret)

    assert not accepted(Stripe(), signed, data.draw(changed_bytes(body)), secret)
    # Covers the timestamp digits, the signature and the separators of the header.
    header = data.draw(changed_text(signed["Stripe-Signature"]))
    assert not accepted(Stripe(), {**signed, "Stripe-Signature": header}, body, secret)


@settings(deadline=None)
@given(
    secret=secrets_text,
    event_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=20),
    timestamp=st.integers(1_000_000_000, 9_999_999_999),
    other_timestamp=st.integers(1_000_000_000, 9_999_999_999),
    data=st.data(),
)
def test_flutterwave_v4_any_change_rejected(secret, event_id, timestamp, other_timestamp, data):
    body = support.flutterwave_v4_body(event_id, timestamp)
    signed = support.flutterwave_v4_headers(secret, body)
    assert accepted(FlutterwaveV4(), signed, body, secret)

    assert not accepted(FlutterwaveV4(), signed, data.draw(changed_bytes(body)), secret)
    header = data.draw(changed_text(signed["flutterwave-signature"]))
    assert not accepted(FlutterwaveV4(), {**signed, "flutterwave-signature": header}, body, secret)

    document = json.loads(body)
    if int(other_timestamp * 1000) != document["timestamp"]:
        document["timestamp"] = int(other_timestamp * 1000)
        retimed = json.dumps(document).encode()
        assert not accepted(FlutterwaveV4(), signed, retimed, secret)


@settings(deadline=None)
@given(secret=secrets_text, data=st.data())
def test_flutterwave_v3_changed_hash_rejected(secret, data):
    body = b'{"data": {"id": 1}}'
    assert accepted(FlutterwaveV3(), {"verif-hash": secret}, body, secret)
    assert not accepted(
        FlutterwaveV3(), {"verif-hash": data.draw(changed_text(secret))}, body, secret
    )


@settings(deadline=None)
@given(
    secret=secrets_text,
    body=bodies,
    encoding=st.sampled_from(["hex", "base64"]),
    prefix=st.sampled_from(["", "sha256="]),
    data=st.data(),
)
def test_generic_hmac_any_change_rejected(secret, body, encoding, prefix, data):
    scheme = GenericHmac(HmacOptions("X-Signature", encoding, prefix, ("id",), None))
    digest = support.hmac_sha256(secret, body)
    encoded = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    signed = {"X-Signature": prefix + encoded}
    assert accepted(scheme, signed, body, secret)

    assert not accepted(scheme, signed, data.draw(changed_bytes(body)), secret)
    header = data.draw(changed_text(signed["X-Signature"]))
    assert not accepted(scheme, {"X-Signature": header}, body, secret)
