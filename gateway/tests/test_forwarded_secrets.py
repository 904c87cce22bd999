"""Forwarded requests carry no secret and no signature, for every scheme.

n8n stores the headers and body of each execution, so anything forwarded ends up in its
database. Each route below is a different scheme, and each sends one valid request.
"""

import asyncio
import json
import time
from contextlib import asynccontextmanager

import aiohttp

from gateway.webhook_gateway.config import load_settings
from gateway.webhook_gateway.forwarder import ROUTE_HEADER, VERIFIED_HEADER
from gateway.webhook_gateway.server import GatewayServer

from . import support

SECRETS = {
    "flutterwave-v4": ["fw4-current-secret-hash", "fw4-previous-secret-hash"],
    "flutterwave-v3": ["fw3-static-secret-hash"],
    "stripe": ["whsec_forwarding_test"],
    "github": ["github-forwarding-secret"],
    "shop": ["shop-forwarding-secret"],
    "crm": ["crm-forwarding-secret"],
}
SHOP_HMAC = {"header": "X-Shop-Signature", "encoding": "hex", "prefix": "sha256=", "id_field": "id"}
CRM_HMAC = {"header": "X-Crm-Signature", "encoding": "hex", "id_header": "X-Crm-Event"}
ROUTES = [
    {"name": "flutterwave-v4", "scheme": "flutterwave-v4", "max_age_seconds": 300},
    {"name": "flutterwave-v3", "scheme": "flutterwave-v3"},
    {"name": "stripe", "scheme": "stripe", "max_age_seconds": 300},
    {"name": "github", "scheme": "github"},
    {"name": "shop", "scheme": "hmac", "hmac": SHOP_HMAC},
    {"name": "crm", "scheme": "hmac", "hmac": CRM_HMAC},
]
for _route in ROUTES:
    _route["public_path"] = f"/hooks/{_route['name']}"
    _route["n8n_path"] = f"/webhook/{_route['name']}"

# Headers that carry a secret or a signature, by route: none of them may reach n8n.
SIGNATURE_HEADERS = {
    "flutterwave-v4": "flutterwave-signature",
    "flutterwave-v3": "verif-hash",
    "stripe": "Stripe-Signature",
    "github": "X-Hub-Signature-256",
    "shop": "X-Shop-Signature",
    "crm": "X-Crm-Signature",
}
# Id and event-type headers that n8n still receives, by route.
KEPT_HEADERS = {
    "github": ["X-GitHub-Delivery", "X-GitHub-Event"],
    "crm": ["X-Crm-Event"],
}


def signed_request(route_name: str) -> tuple[bytes, dict[str, str]]:
    """Return a body and the headers its provider would send, signed with the current secret."""
    secret = SECRETS[route_name][0]
    now = time.time()
    if route_name == "flutterwave-v4":
        body = support.flutterwave_v4_body("wbk_forward", now)
        return body, support.flutterwave_v4_headers(secret, body)
    if route_name == "flutterwave-v3":
        body = json.dumps({"event": "charge.completed", "data": {"id": 4711}}).encode()
        return body, support.flutterwave_v3_headers(secret)
    if route_name == "stripe":
        body = json.dumps({"id": "evt_forward", "object": "event"}).encode()
        return body, support.stripe_headers(secret, body, int(now))
    if route_name == "github":
        body = json.dumps({"zen": "Design for failure."}).encode()
        return body, support.github_headers(secret, body, "gh-forward")
    if route_name == "shop":
        body = json.dumps({"id": "order-forward", "total": 1200}).encode()
        return body, support.hmac_hex_headers(secret, body, "X-Shop-Signature", "sha256=")
    body = json.dumps({"contact": "c-17"}).encode()
    return body, support.hmac_hex_headers(
        secret, body, "X-Crm-Signature", **{"X-Crm-Event": "crm-forward"}
    )


@asynccontextmanager
async def gateway_with_every_scheme(redis_server):
    standin = support.N8nStandIn()
    await standin.start()
    environment = support.gateway_environment(ROUTES, SECRETS, standin.url, redis_server)
    server = GatewayServer(load_settings(environment))
    await server.start()
    try:
        yield server, standin
    finally:
        await server.stop()
        await standin.stop()


def test_no_secret_or_signature_forwarded(redis_server):
    sent = {}

    async def scenario():
        async with (
            gateway_with_every_scheme(redis_server) as (server, standin),
            aiohttp.ClientSession() as session,
        ):
            statuses = {}
            for route in ROUTES:
                body, headers = signed_request(route["name"])
                sent[route["name"]] = (body, headers)
                url = f"http://{support.LOOPBACK}:{server.port}{route['public_path']}"
                async with session.post(url, data=body, headers=headers) as response:
                    statuses[route["name"]] = response.status
            return statuses, standin.received

    statuses, received = asyncio.run(scenario())
    assert statuses == {route["name"]: 200 for route in ROUTES}
    by_route = {request.headers[ROUTE_HEADER]: request for request in received}
    assert sorted(by_route) == sorted(SECRETS)

    every_secret = [secret for secrets in SECRETS.values() for secret in secrets]
    for name, request in by_route.items():
        body, headers = sent[name]
        signature = headers[SIGNATURE_HEADERS[name]]
        forwarded_text = "\n".join(f"{key}: {value}" for key, value in request.headers.items())
        forwarded_names = {key.lower() for key in request.headers}
        assert request.body == body, name
        assert SIGNATURE_HEADERS[name].lower() not in forwarded_names, name
        assert signature not in forwarded_text, name
        for secret in every_secret:
            assert secret not in forwarded_text, (name, secret)
            assert secret.encode() not in request.body, (name, secret)
        for kept in KEPT_HEADERS.get(name, []):
            assert request.headers[kept] == headers[kept], (name, kept)
        assert request.headers[VERIFIED_HEADER] == next(
            route["scheme"] for route in ROUTES if route["name"] == name
        )
