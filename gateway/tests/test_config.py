"""Route validation and environment loading: every problem is reported with route and field."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.webhook_gateway.config import (
    DEFAULT_DEDUP_TTL_SECONDS,
    DEFAULT_MAX_FUTURE_SECONDS,
    DEFAULT_REDIS_DB,
    ConfigError,
    load_settings,
    validate_routes,
)

FLUTTERWAVE = {
    "name": "flutterwave",
    "public_path": "/hooks/flutterwave",
    "n8n_path": "/webhook/flutterwave-payments",
    "scheme": "flutterwave-v4",
    "max_age_seconds": 60,
}
GENERIC = {
    "name": "shop",
    "public_path": "/hooks/shop",
    "n8n_path": "/webhook/shop",
    "scheme": "hmac",
    "hmac": {"header": "X-Signature", "encoding": "hex", "prefix": "sha256=", "id_field": "id"},
}
SECRET_VALUE = "a-very-secret-signing-key"  # noqa: S105 - test value


def route(**changes):
    result = dict(FLUTTERWAVE)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def environment(**changes):
    values = {
        "GATEWAY_ROUTES": json.dumps([FLUTTERWAVE, GENERIC]),
        "GATEWAY_SECRETS": json.dumps({"flutterwave": [SECRET_VALUE], "shop": [SECRET_VALUE]}),
        "GATEWAY_N8N_URL": "http://n8n-main:5678",
        "GATEWAY_REDIS_HOST": "redis",
        "GATEWAY_REDIS_PASSWORD": "redis-password",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def test_valid_routes_have_no_problems():
    assert validate_routes([FLUTTERWAVE, GENERIC]) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"scheme": "paypal"}, 'route "flutterwave": scheme must be one of'),
        ({"public_path": "hooks"}, 'route "flutterwave": public_path must start with'),
        ({"public_path": "/hooks/../admin"}, 'route "flutterwave": public_path must not contain'),
        ({"public_path": "/healthz"}, 'route "flutterwave": public_path /healthz is reserved'),
        ({"n8n_path": "/webhook/x?y=1"}, 'route "flutterwave": n8n_path must start with'),
        ({"max_age_seconds": None}, 'route "flutterwave": max_age_seconds is required'),
        ({"max_age_seconds": "60"}, 'route "flutterwave": max_age_seconds is required'),
        ({"max_age_seconds": True}, 'route "flutterwave": max_age_seconds is required'),
        ({"max_future_seconds": -1}, 'route "flutterwave": max_future_seconds must be'),
        ({"colour": "red"}, 'route "flutterwave": unknown field "colour"'),
        ({"hmac": GENERIC["hmac"]}, 'route "flutterwave": hmac is only allowed for scheme hmac'),
        ({"name": "Flutter Wave"}, "route #0: name must be"),
    ],
)
def test_invalid_route_field_is_named(changes, expected):
    problems = validate_routes([route(**changes)])
    assert any(problem.startswith(expected) for problem in problems), problems


def test_freshness_field_rejected_without_timestamp():
    github = {**route(scheme="github", name="github"), "max_future_seconds": 5}
    problems = validate_routes([github])
    assert problems == [
        'route "github": max_age_seconds is not allowed for scheme github: its requests carry '
        "no signed timestamp",
        'route "github": max_future_seconds is not allowed for scheme github: its requests '
        "carry no signed timestamp",
    ]


@pytest.mark.parametrize(
    ("hmac_options", "expected"),
    [
        (None, "hmac must be an object"),
        ({**GENERIC["hmac"], "header": "X Signature"}, "hmac.header must be an HTTP header name"),
        ({**GENERIC["hmac"], "encoding": "base32"}, "hmac.encoding must be hex or base64"),
        ({**GENERIC["hmac"], "id_header": "X-Id"}, "hmac needs exactly one of id_field"),
        ({**GENERIC["hmac"], "id_field": "data..id"}, "hmac.id_field must be a field name"),
        ({**GENERIC["hmac"], "algorithm": "sha1"}, 'unknown field "hmac.algorithm"'),
        (
            {"header": "X-Signature", "encoding": "hex", "id_header": "x-signature"},
            "hmac.id_header must differ from hmac.header",
        ),
    ],
)
def test_invalid_hmac_option_is_named(hmac_options, expected):
    generic = {key: value for key, value in GENERIC.items() if key != "hmac"}
    if hmac_options is not None:
        generic["hmac"] = hmac_options
    problems = validate_routes([generic])
    assert any(problem.startswith(f'route "shop": {expected}') for problem in problems), problems


def test_every_problem_is_reported_at_once():
    problems = validate_routes([route(scheme="paypal", public_path="x"), "not a route"])
    assert len(problems) == 3
    assert problems[0].startswith('route "flutterwave": public_path')
    assert problems[1].startswith('route "flutterwave": scheme')
    assert problems[2] == "route #1: must be a JSON object, got a string"


def test_duplicate_name_and_path_rejected():
    problems = validate_routes([FLUTTERWAVE, dict(FLUTTERWAVE)])
    assert 'more than one route has name "flutterwave"' in problems
    assert 'more than one route has public_path "/hooks/flutterwave"' in problems


def test_routes_must_be_a_list():
    assert validate_routes({"name": "x"}) == [
        "routes must be a JSON array of route objects, got an object"
    ]
    assert validate_routes([]) == ["routes must contain at least one route"]


def test_freshness_window_below_dedup_ttl():
    problems = validate_routes([route(max_age_seconds=3600)], dedup_ttl_seconds=3600)
    assert len(problems) == 1
    assert problems[0].startswith(
        f'route "flutterwave": max_age_seconds + max_future_seconds '
        f"({3600 + DEFAULT_MAX_FUTURE_SECONDS}) must be less than GATEWAY_DEDUP_TTL_SECONDS"
    )
    assert validate_routes([route(max_age_seconds=3600)], dedup_ttl_seconds=7200) == []


def test_validate_routes_leaves_input_unchanged():
    routes = [dict(FLUTTERWAVE), json.loads(json.dumps(GENERIC))]
    before = json.dumps(routes, sort_keys=True)
    validate_routes(routes, dedup_ttl_seconds=60)
    assert json.dumps(routes, sort_keys=True) == before


def test_load_settings_applies_defaults():
    settings = load_settings(environment())
    assert settings.redis_db == DEFAULT_REDIS_DB
    assert settings.port == 8080
    assert settings.metrics_port == 9102
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.dedup_ttl_seconds == DEFAULT_DEDUP_TTL_SECONDS
    assert settings.trusted_proxy_hops == 1
    flutterwave, shop = settings.routes
    assert flutterwave.max_future_seconds == DEFAULT_MAX_FUTURE_SECONDS
    assert shop.max_future_seconds is None
    assert shop.hmac.id_field == ("id",)


def test_load_settings_lists_every_problem():
    with pytest.raises(ConfigError) as raised:
        load_settings(
            environment(
                GATEWAY_N8N_URL="ftp://n8n",
                GATEWAY_REDIS_HOST=None,
                GATEWAY_PORT="eighty",
                GATEWAY_REDIS_DB="16",
                GATEWAY_SECRETS=json.dumps({"flutterwave": [SECRET_VALUE], "other": ["x"]}),
            )
        )
    problems = raised.value.problems
    assert 'GATEWAY_SECRETS: route "other" is not in GATEWAY_ROUTES' in problems
    assert 'GATEWAY_SECRETS: route "shop" has no secret' in problems
    assert 'GATEWAY_N8N_URL must be an http(s) URL with a host, got "ftp://n8n"' in problems
    assert "GATEWAY_REDIS_HOST is missing: set it in the container environment" in problems
    assert 'GATEWAY_PORT must be an integer, got "eighty"' in problems
    assert "GATEWAY_REDIS_DB must be between 0 and 15, got 16" in problems
    assert len(problems) == 6
    assert "6 problems" in str(raised.value)


def test_config_error_never_shows_secrets():
    with pytest.raises(ConfigError) as raised:
        load_settings(
            environment(
                GATEWAY_SECRETS=json.dumps({"flutterwave": [SECRET_VALUE, SECRET_VALUE, "3rd"]}),
                GATEWAY_REDIS_PASSWORD="",
            )
        )
    assert SECRET_VALUE not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_settings(environment(GATEWAY_SECRETS='{"flutterwave": ["' + SECRET_VALUE + '"'))
    assert SECRET_VALUE not in str(raised.value)
    assert "GATEWAY_SECRETS is not valid JSON" in str(raised.value)


def test_config_error_counts_one_problem():
    with pytest.raises(ConfigError) as raised:
        load_settings(environment(GATEWAY_REDIS_HOST=None))
    first_line = str(raised.value).splitlines()[0]
    assert first_line == "invalid gateway configuration (1 problem):"


def test_secrets_hidden_from_repr():
    settings = load_settings(environment())
    assert SECRET_VALUE not in repr(settings)
    assert "redis-password" not in repr(settings)
    assert SECRET_VALUE not in repr(settings.routes[0].secrets)


def test_claim_lease_must_outlive_forward_timeout():
    with pytest.raises(ConfigError) as raised:
        load_settings(
            environment(GATEWAY_N8N_TIMEOUT_SECONDS="30", GATEWAY_CLAIM_LEASE_SECONDS="30")
        )
    assert raised.value.problems == [
        "GATEWAY_CLAIM_LEASE_SECONDS must be at least GATEWAY_N8N_TIMEOUT_SECONDS + 5, "
        "so a claim outlives the forward it protects"
    ]


def test_process_exits_nonzero_on_config_error():
    """The real entry point prints one error that lists every problem, and exits 2."""
    repository = Path(__file__).resolve().parents[2]
    completed = subprocess.run(  # noqa: S603 - fixed command
        [sys.executable, "-m", "gateway.webhook_gateway"],
        cwd=repository,
        env={
            "PATH": os.environ.get("PATH", ""),
            **environment(GATEWAY_ROUTES="[]", GATEWAY_PORT="0"),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 2
    assert "invalid gateway configuration (2 problems)" in completed.stderr
    assert "GATEWAY_ROUTES: routes must contain at least one route" in completed.stderr
    assert "GATEWAY_PORT must be between 1 and 65535, got 0" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_process_exits_when_port_in_use():
    """A port that is already bound stops the process with one error line and status 1."""
    repository = Path(__file__).resolve().parents[2]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(  # noqa: S603 - fixed command
            [sys.executable, "-m", "gateway.webhook_gateway"],
            cwd=repository,
            env={
                "PATH": os.environ.get("PATH", ""),
                **environment(GATEWAY_LISTEN_HOST="127.0.0.1", GATEWAY_PORT=str(port)),
            },
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert completed.returncode == 1
    assert f"failed to listen on 127.0.0.1:{port}: Address already in use" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "Unclosed" not in completed.stderr
