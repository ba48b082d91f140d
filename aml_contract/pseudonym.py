"""Keyed pseudonyms: hex HMAC-SHA256 of an identifier under a secret key.

One function for every engine (Glue UDF, Lambda, tests, local runtime), so the same id gets
the same pseudonym everywhere. An unkeyed hash of an id space as small as account numbers is
reversible by enumeration; the key (Secrets Manager in AWS) is what makes it a pseudonym.
"""
from __future__ import annotations

import hashlib
import hmac
import os

KEY_ENV = "AML_PSEUDONYMIZATION_KEY"
MIN_KEY_BYTES = 16


def normalise_key(key: str | bytes) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonymisation key must be at least {MIN_KEY_BYTES} bytes, got {len(raw)}")
    return raw


def key_from_env() -> bytes:
    value = os.environ.get(KEY_ENV)
    if not value:
        raise RuntimeError(f"set {KEY_ENV} to the pseudonymisation key to pseudonymise identifiers")
    return normalise_key(value)


def is_pseudonym(value: str) -> bool:
    """Whether `value` has a pseudonym's form: the 64 lowercase hex digits of a SHA-256 HMAC."""
    return len(value) == 2 * hashlib.sha256().digest_size and all(c in "0123456789abcdef" for c in value)


def pseudonymise(value: str | None, key: bytes) -> str | None:
    if value is None:
        return None
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()


def key_from_secret_string(secret_string: str) -> bytes:
    """Secrets Manager value: the key itself, or JSON {"key": "..."} (what CDK's generated
    secret templates produce)."""
    import json

    text = secret_string.strip()
    if text.startswith("{"):
        text = json.loads(text)["key"]
    return normalise_key(text)
