"""Signature schemes, one per provider, and the lookup from a route to its scheme."""

from ..config import RouteConfig
from .base import Event, MalformedEvent, Scheme, Verified
from .flutterwave import FlutterwaveV3, FlutterwaveV4
from .generic import GenericHmac
from .github import GitHub
from .stripe import Stripe

__all__ = [
    "Event",
    "FlutterwaveV3",
    "FlutterwaveV4",
    "GenericHmac",
    "GitHub",
    "MalformedEvent",
    "Scheme",
    "Stripe",
    "Verified",
    "scheme_for",
]

_FIXED_SCHEMES: dict[str, Scheme] = {
    "flutterwave-v4": FlutterwaveV4(),
    "flutterwave-v3": FlutterwaveV3(),
    "github": GitHub(),
    "stripe": Stripe(),
}


def scheme_for(route: RouteConfig) -> Scheme:
    """Return the scheme that checks ``route``'s requests."""
    if route.scheme == "hmac":
        if route.hmac is None:
            raise ValueError(f"route {route.name} has scheme hmac but no hmac options")
        return GenericHmac(route.hmac)
    return _FIXED_SCHEMES[route.scheme]
