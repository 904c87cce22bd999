"""Pure checks of single stack settings.

Each check takes a value already read from the stack and returns the text of what is wrong
with it, or None. The caller adds the key and the `pulumi config set` command that fixes it.
"""

import base64
import binascii
import ipaddress
import re
import struct

# Hetzner Cloud server types on sale. Hetzner no longer sells the cx22-cx52 and cpx11-cpx51
# families; cx23-cx53 and cpx12-cpx62 replace them, size for size.
CURRENT_SERVER_TYPES = frozenset(
    ["cx23", "cx33", "cx43", "cx53"]
    + ["cpx12", "cpx22", "cpx32", "cpx42", "cpx52", "cpx62"]
    + ["cax11", "cax21", "cax31", "cax41"]
    + ["ccx13", "ccx23", "ccx33", "ccx43", "ccx53", "ccx63"]
)
RETIRED_SERVER_TYPES = {
    "cx11": "cx23",
    "cx21": "cx23",
    "cx22": "cx23",
    "cx31": "cx33",
    "cx32": "cx33",
    "cx41": "cx43",
    "cx42": "cx43",
    "cx51": "cx53",
    "cx52": "cx53",
    "cpx11": "cpx12",
    "cpx21": "cpx22",
    "cpx31": "cpx32",
    "cpx41": "cpx42",
    "cpx51": "cpx52",
}
LOCATIONS = ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")

# The host files are written for Debian 13 and checked by Debian 13's own tools.
SUPPORTED_IMAGES = ("debian-13",)

SSH_KEY_TYPES = (
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa",
)
MIN_RSA_BITS = 3072
ED25519_KEY_BYTES = 32
# An uncompressed point: 0x04, then both coordinates at the curve's size.
ECDSA_POINT_BYTES = {"nistp256": 65, "nistp384": 97, "nistp521": 133}

# Networks broader than these leave SSH open to a large part of the internet.
MIN_IPV4_PREFIX = 8
MIN_IPV6_PREFIX = 16
_IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")

_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Accounts and groups of a Debian 13 server with the deployed packages. The admin user's own
# group takes the user's name, so an existing group name cannot be used either.
_RESERVED_USERS = frozenset(
    ["root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp"]
    + ["proxy", "www-data", "backup", "list", "irc", "_apt", "nobody", "nogroup", "messagebus"]
    + ["systemd-network", "systemd-timesync", "systemd-resolve", "systemd-journal", "sshd"]
    + ["polkitd", "adm", "tty", "disk", "kmem", "dialout", "cdrom", "floppy", "tape", "sudo"]
    + ["audio", "dip", "video", "plugdev", "staff", "users", "netdev", "input", "render"]
    + ["docker", "admin", "shadow", "utmp", "voice", "operator", "src", "fax", "sasl"]
)
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Conservative on purpose: the address is written into the Caddyfile, so no quotes or braces.
_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_MAX_EMAIL_LOCAL_PART = 64
_MAX_EMAIL_LENGTH = 254
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def check_server_type(value: str) -> str | None:
    if value in CURRENT_SERVER_TYPES:
        return None
    if value in RETIRED_SERVER_TYPES:
        return (
            f"{value!r} is no longer sold by Hetzner; "
            f"use {RETIRED_SERVER_TYPES[value]!r}, the same size in the current family"
        )
    on_sale = _listing(CURRENT_SERVER_TYPES)
    return f"{value!r} is not a Hetzner server type on sale; use one of {on_sale}"


def check_location(value: str) -> str | None:
    if value in LOCATIONS:
        return None
    return f"{value!r} is not a Hetzner Cloud location; use one of {', '.join(LOCATIONS)}"


def check_image(value: str) -> str | None:
    if value in SUPPORTED_IMAGES:
        return None
    return f"{value!r} is not supported: the host files are written and tested for debian-13"


def check_user_name(value: str) -> str | None:
    if not _USER_NAME.fullmatch(value):
        return f"{value!r} is not a valid Linux user name (lowercase letters, digits, _ and -)"
    if value in _RESERVED_USERS:
        return f"{value!r} is reserved on the server; choose a personal or team name such as 'ops'"
    return None


def check_ssh_public_key(line: str) -> str | None:
    """Check one OpenSSH public key line: known type, valid base64 blob, RSA size."""
    if any(ord(char) < 32 or ord(char) == 127 for char in line):
        return "contains a line break or control character; give each key as its own list entry"
    fields = line.split()
    if len(fields) < 2:
        return "is not an OpenSSH public key line ('TYPE BASE64 [COMMENT]')"
    key_type, blob_text = fields[0], fields[1]
    if key_type not in SSH_KEY_TYPES:
        return (
            f"key type {key_type!r} is not accepted; "
            "use ssh-ed25519 (or ECDSA, or RSA of 3072 bits or more)"
        )
    try:
        blob = base64.b64decode(blob_text, validate=True)
        parts = _ssh_blob_fields(blob)
    except (binascii.Error, ValueError):
        return f"the {key_type} key data is not valid base64 of an SSH public key"
    if parts[0] != key_type.encode():
        return f"the key data is a {parts[0].decode(errors='replace')!r} key, not {key_type!r}"
    shape_error = _check_key_shape(key_type, parts)
    if shape_error:
        return f"the {key_type} key data is malformed: {shape_error}"
    if key_type == "ssh-rsa":
        bits = int.from_bytes(parts[2], "big").bit_length()
        if bits < MIN_RSA_BITS:
            return f"the RSA key has {bits} bits; use at least {MIN_RSA_BITS} or an ssh-ed25519 key"
    return None


def _check_key_shape(key_type: str, parts: list[bytes]) -> str | None:
    """Check the field count and sizes of a public key blob, as OpenSSH's sshkey.c reads them.

    NOTE: an ECDSA point is checked for its length, not for lying on the curve.
    """
    if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        expected = 2 if key_type == "ssh-ed25519" else 3
        if len(parts) != expected or len(parts[1]) != ED25519_KEY_BYTES:
            return f"expected {expected} fields with a {ED25519_KEY_BYTES}-byte key"
    elif key_type == "ssh-rsa":
        if len(parts) != 3 or not parts[1] or not parts[2]:
            return "expected an exponent and a modulus"
    else:
        curve = key_type.removeprefix("sk-").split("@")[0].rsplit("-", 1)[1]
        expected = 3 if not key_type.startswith("sk-") else 4
        if len(parts) != expected or parts[1] != curve.encode():
            return f"expected {expected} fields naming the curve {curve}"
        if len(parts[2]) != ECDSA_POINT_BYTES[curve] or parts[2][:1] != b"\x04":
            return f"the {curve} point is not {ECDSA_POINT_BYTES[curve]} bytes, uncompressed"
    return None


def _ssh_blob_fields(blob: bytes) -> list[bytes]:
    fields = []
    offset = 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError("truncated length")
        (length,) = struct.unpack(">I", blob[offset : offset + 4])
        offset += 4
        if offset + length > len(blob):
            raise ValueError("truncated field")
        fields.append(blob[offset : offset + length])
        offset += length
    if not fields:
        raise ValueError("empty key")
    return fields


def check_admin_cidr(value: str) -> str | None:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"{value!r} is not an IPv4 or IPv6 network in CIDR form (203.0.113.0/24)"
        return f"{value!r} has host bits set; did you mean {str(loose)!r}?"
    if network.version == 6 and network.subnet_of(_IPV4_MAPPED):
        return f"{value!r} is an IPv4-mapped IPv6 network; list the IPv4 network itself"
    if network.prefixlen == 0:
        return f"{value!r} opens SSH to the whole internet; list only your own networks"
    minimum = MIN_IPV4_PREFIX if network.version == 4 else MIN_IPV6_PREFIX
    if network.prefixlen < minimum:
        return f"{value!r} is broader than /{minimum} and opens SSH to a large part of the internet"
    return None


def check_domain(value: str) -> str | None:
    if not value:
        return "is required: the DNS name of the n8n editor, such as n8n.example.com"
    labels = value.split(".")
    if len(labels) < 2 or len(value) > 253 or not all(_DOMAIN_LABEL.fullmatch(x) for x in labels):
        return f"{value!r} is not a fully qualified lowercase DNS name such as n8n.example.com"
    if labels[-1].isdigit():
        return f"{value!r} is an IP address; certificates need a DNS name"
    return None


def check_email(value: str) -> str | None:
    if not value:
        return "is required: the ACME certificate authority sends expiry notices there"
    local_part = value.partition("@")[0]
    if len(value) > _MAX_EMAIL_LENGTH or len(local_part) > _MAX_EMAIL_LOCAL_PART:
        return f"{value!r} is longer than an e-mail address may be"
    if not _EMAIL.fullmatch(value):
        return f"{value!r} is not a plain e-mail address such as ops@example.com"
    return None


def check_version(value: str) -> str | None:
    if _VERSION.fullmatch(value):
        return None
    return (
        f"{value!r} is not an exact n8n release such as 2.41.3 (tags like 'latest' are not pinned)"
    )


def check_clock_time(value: str) -> str | None:
    if _CLOCK_TIME.fullmatch(value):
        return None
    return f"{value!r} is not a time of day in HH:MM form (24-hour clock)"


def check_range(value: object, low: int, high: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{value!r} is not a whole number"
    if low <= value <= high:
        return None
    return f"{value} is outside the allowed range {low} to {high}"


def _listing(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))
