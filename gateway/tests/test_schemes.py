"""Each signature scheme against known vectors, and its event id and timestamp extraction.

Vector sources: GitHub publishes one (secret "It's a Secret to Everybody", payload
"Hello, World!"). Stripe publishes none, so the Stripe vector was produced by stripe-python
16.1.0's ``WebhookSignature.generate_signature_header``. Flutterwave and the generic HMAC
scheme have no published vector, so theirs were computed with
``openssl dgst -sha256 -hmac KEY -binary | base64`` (OpenSSL 3.0.19) over the exact bytes below.
"""

import pytest
from multidict import CIMultiDict

from gateway.webhook_gateway.config import HmacOptions, Secret
from gateway.webhook_gateway.schemes import (
    FlutterwaveV3,
    FlutterwaveV4,
    GenericHmac,
    GitHub,
    MalformedEvent,
    Stripe,
    Verified,
)

GITHUB_SECRET = Secret(b"It's a Secret to Everybody")
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

STRIPE_SECRET = Secret(b"whsec_test_secret")
STRIPE_BODY = b'{"id":"evt_test_webhook","object":"event"}'
STRIPE_HEADER = "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"

# Flutterwave's documented sample payload, trimmed and serialised without spaces.
FLUTTERWAVE_SECRET = Secret(b"flutterwave-secret-hash")
FLUTTERWAVE_BODY = (
    b'{"data":{"id":"chg_Hq4oBRTJ4r","status":"succeeded"},"id":"wbk_W5p6ktwU0jQ8RO4By860",'
    b'"timestamp":1735116884019,"type":"charge.completed"}'
)
FLUTTERWAVE_SIGNATURE = "tudEwbclFSimXAUcDQ7cu5iidWuuihRXmV7Wc2ehMk8="

GENERIC_SECRET = Secret(b"shop-signing-key")
GENERIC_BODY = b'{"id":"order-7","total":1200}'
GENERIC_HEX = "aa61a4545f321a0abedecaa219a384c30db26177c46de775d8381bd1a123dec4"
GENERIC_BASE64 = "qmGkVF8yGgq+3sqiGaOEww2yYXfEbed12Dgb0aEj3sQ="

OTHER_SECRET = Secret(b"some-other-secret")


def headers(**values: str) -> CIMultiDict:
    return CIMultiDict({name.replace("_", "-"): value for name, value in values.items()})


def test_github_published_vector_accepted():
    request_headers = headers(X_Hub_Signature_256=GITHUB_SIGNATURE)
    assert GitHub().verify(request_headers, GITHUB_BODY, [GITHUB_SECRET]) == Verified()


def test_github_rejects_wrong_body_secret_or_format():
    scheme = GitHub()
    good = headers(X_Hub_Signature_256=GITHUB_SIGNATURE)
    assert scheme.verify(good, b"Hello, World?", [GITHUB_SECRET]) is None
    assert scheme.verify(good, GITHUB_BODY, [OTHER_SECRET]) is None
    assert scheme.verify(headers(), GITHUB_BODY, [GITHUB_SECRET]) is None
    no_prefix = headers(X_Hub_Signature_256=GITHUB_SIGNATURE.removeprefix("sha256="))
    assert scheme.verify(no_prefix, GITHUB_BODY, [GITHUB_SECRET]) is None
    upper = headers(X_Hub_Signature_256="sha256=" + GITHUB_SIGNATURE[7:].upper())
    assert scheme.verify(upper, GITHUB_BODY, [GITHUB_SECRET]) is None


def test_github_event_id_from_delivery_header():
    request_headers = headers(X_GitHub_Delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    event = GitHub().extract(request_headers, GITHUB_BODY, Verified())
    assert event.event_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert event.timestamp is None
    with pytest.raises(MalformedEvent, match="X-GitHub-Delivery is missing"):
        GitHub().extract(headers(), GITHUB_BODY, Verified())


def test_stripe_library_vector_accepted():
    verified = Stripe().verify(
        headers(Stripe_Signature=STRIPE_HEADER), STRIPE_BODY, [STRIPE_SECRET]
    )
    assert verified == Verified(timestamp=1700000000.0)
    event = Stripe().extract(headers(), STRIPE_BODY, verified)
    assert event.event_id == "evt_test_webhook"
    assert event.timestamp == 1700000000.0


def test_stripe_accepts_any_matching_v1():
    valid = STRIPE_HEADER.split(",v1=")[1]
    header = f"t=1700000000,v1={'0' * 64},v0=ignored,v1={valid}"
    assert Stripe().verify(headers(Stripe_Signature=header), STRIPE_BODY, [STRIPE_SECRET])


@pytest.mark.parametrize(
    "header",
    [
        "",
        "v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990",
        "t=1700000000",
        "t=1700000001,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990",
        "t=+1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990",
        "t=1700000000,t=1700000000,"
        "v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990",
        "t=1700000000,v0=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990",
    ],
)
def test_stripe_rejects_bad_header(header):
    assert Stripe().verify(headers(Stripe_Signature=header), STRIPE_BODY, [STRIPE_SECRET]) is None


def test_flutterwave_v4_vector_accepted():
    request_headers = headers(flutterwave_signature=FLUTTERWAVE_SIGNATURE)
    verified = FlutterwaveV4().verify(request_headers, FLUTTERWAVE_BODY, [FLUTTERWAVE_SECRET])
    assert verified == Verified()
    event = FlutterwaveV4().extract(request_headers, FLUTTERWAVE_BODY, verified)
    assert event.event_id == "wbk_W5p6ktwU0jQ8RO4By860"
    assert event.timestamp == 1735116884.019


def test_flutterwave_v4_rejects_non_canonical_base64():
    # Same digest bytes, but the padding character is missing.
    unpadded = headers(flutterwave_signature=FLUTTERWAVE_SIGNATURE.rstrip("="))
    assert FlutterwaveV4().verify(unpadded, FLUTTERWAVE_BODY, [FLUTTERWAVE_SECRET]) is None
    # The secret hash itself, as the v3 header carries it, is not a v4 signature.
    plain = headers(flutterwave_signature="flutterwave-secret-hash")
    assert FlutterwaveV4().verify(plain, FLUTTERWAVE_BODY, [FLUTTERWAVE_SECRET]) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"timestamp": 1735116884019}', "no field id"),
        (b'{"id": "wbk_1"}', "no field timestamp"),
        (b'{"id": "wbk_1", "timestamp": "1735116884019"}', "timestamp is not a positive"),
        (b'{"id": true, "timestamp": 1735116884019}', "id is not a string or integer"),
        (b'{"id": "wbk\\n1", "timestamp": 1735116884019}', "not printable ASCII"),
        (b'{"id": "wbk_\xff", "timestamp": 1735116884019}', "not valid JSON"),
        # Nesting deeper than Python's recursion limit, and an integer past the 4300 digits
        # that int() converts by default.
        (b'{"id": "wbk_1", "timestamp": 1, "data": ' + b"[" * 100_000, "not valid JSON"),
        (b'{"id": "wbk_1", "timestamp": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_flutterwave_v4_malformed_body(body, message):
    with pytest.raises(MalformedEvent, match=message):
        FlutterwaveV4().extract(headers(), body, Verified())


def test_flutterwave_v3_compares_secret_hash():
    scheme = FlutterwaveV3()
    body = b'{"event":"charge.completed","data":{"id":285959875,"status":"successful"}}'
    assert scheme.verify(headers(verif_hash="flutterwave-secret-hash"), body, [FLUTTERWAVE_SECRET])
    assert (
        scheme.verify(headers(verif_hash="flutterwave-secret-has"), body, [FLUTTERWAVE_SECRET])
        is None
    )
    assert scheme.verify(headers(), body, [FLUTTERWAVE_SECRET]) is None
    event = scheme.extract(headers(), body, Verified())
    assert event.event_id == "285959875"
    assert event.timestamp is None


def test_generic_hmac_hex_with_prefix():
    options = HmacOptions("X-Signature", "hex", "sha256=", ("id",), None)
    scheme = GenericHmac(options)
    good = headers(X_Signature="sha256=" + GENERIC_HEX)
    assert scheme.verify(good, GENERIC_BODY, [GENERIC_SECRET]) == Verified()
    assert scheme.verify(headers(X_Signature=GENERIC_HEX), GENERIC_BODY, [GENERIC_SECRET]) is None
    assert scheme.extract(good, GENERIC_BODY, Verified()).event_id == "order-7"


def test_generic_hmac_base64_with_id_header():
    options = HmacOptions("X-Shop-Signature", "base64", "", None, "X-Shop-Event")
    scheme = GenericHmac(options)
    good = headers(X_Shop_Signature=GENERIC_BASE64, X_Shop_Event="evt-42")
    assert scheme.verify(good, GENERIC_BODY, [GENERIC_SECRET]) == Verified()
    assert scheme.extract(good, GENERIC_BODY, Verified()).event_id == "evt-42"
    assert scheme.forwarded_headers == ("X-Shop-Event",)
    with pytest.raises(MalformedEvent, match="X-Shop-Event is missing"):
        scheme.extract(headers(X_Shop_Signature=GENERIC_BASE64), GENERIC_BODY, Verified())


def test_generic_hmac_nested_id_field():
    options = HmacOptions("X-Signature", "hex", "", ("data", "id"), None)
    event = GenericHmac(options).extract(headers(), b'{"data": {"id": 17}}', Verified())
    assert event.event_id == "17"


@pytest.mark.parametrize(
    ("scheme", "request_headers", "body", "secret"),
    [
        (GitHub(), headers(X_Hub_Signature_256=GITHUB_SIGNATURE), GITHUB_BODY, GITHUB_SECRET),
        (Stripe(), headers(Stripe_Signature=STRIPE_HEADER), STRIPE_BODY, STRIPE_SECRET),
        (
            FlutterwaveV4(),
            headers(flutterwave_signature=FLUTTERWAVE_SIGNATURE),
            FLUTTERWAVE_BODY,
            FLUTTERWAVE_SECRET,
        ),
        (FlutterwaveV3(), headers(verif_hash="flutterwave-secret-hash"), b"{}", FLUTTERWAVE_SECRET),
    ],
)
def test_either_active_secret_accepted(scheme, request_headers, body, secret):
    assert scheme.verify(request_headers, body, [secret, OTHER_SECRET])
    assert scheme.verify(request_headers, body, [OTHER_SECRET, secret])
    assert scheme.verify(request_headers, body, [OTHER_SECRET]) is None
