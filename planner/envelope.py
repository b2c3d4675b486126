"""Checksummed JSON documents, so that damaged or foreign state is refused, never trusted.

A sealed document is ``{"checksum": <sha256 of the canonical body>, <key>: <body>}``. The
canonical form (sorted keys, no spaces) is what is hashed, so the file itself may be
indented for people to read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def seal(key: str, body: dict[str, Any], *, indent: int | None = None) -> bytes:
    """The bytes of ``body`` under ``key`` with its checksum."""
    checksum = hashlib.sha256(_canonical(body)).hexdigest()
    document = {"checksum": checksum, key: body}
    return json.dumps(document, sort_keys=True, indent=indent).encode() + b"\n"


def unseal(key: str, raw: bytes) -> dict[str, Any]:
    """The body under ``key``; ValueError when the bytes are not JSON, not sealed, or damaged."""
    try:
        document = json.loads(raw)
        body = document[key]
        checksum = document["checksum"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a sealed document ({error})") from None
    if not isinstance(body, dict) or hashlib.sha256(_canonical(body)).hexdigest() != checksum:
        raise ValueError("checksum mismatch")
    return body
