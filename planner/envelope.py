"""Checksummed JSON documents, so that damaged or foreign state is refused, never trusted.

A sealed document is ``{"checksum": <sha256>, <key>: <body>}``, written as exactly those
bytes: the checksum is the SHA-256 of the body's bytes as they stand in the file, so a body
can be encoded once, straight from a model (``seal_json``), without building it as Python
objects first; a 100,000-change plan costs hundreds of megabytes that way. Files written
before this layout hashed the canonical form of the body (sorted keys, no spaces), which
``unseal`` still accepts.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _head(checksum: str, key: str) -> bytes:
    return f'{{"checksum":"{checksum}",{json.dumps(key)}:'.encode()


def seal_json(key: str, body_json: bytes) -> bytes:
    """The bytes of a body already encoded as a JSON object, under ``key``, with its checksum."""
    checksum = hashlib.sha256(body_json).hexdigest()
    return b"".join((_head(checksum, key), body_json, b"}\n"))


def seal(key: str, body: dict[str, Any]) -> bytes:
    """The bytes of ``body`` under ``key`` with its checksum."""
    return seal_json(key, _canonical(body))


def unseal(key: str, raw: bytes) -> dict[str, Any]:
    """The body under ``key``; ValueError when the bytes are not JSON, not sealed, or damaged."""
    try:
        document = json.loads(raw)
        body = document[key]
        checksum = document["checksum"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a sealed document ({error})") from None
    if not isinstance(body, dict) or not isinstance(checksum, str):
        raise ValueError("not a sealed document")

    head = _head(checksum, key)
    is_laid_out = raw.startswith(head) and raw.endswith(b"}\n")
    if is_laid_out and hashlib.sha256(memoryview(raw)[len(head) : -2]).hexdigest() == checksum:
        return body
    if hashlib.sha256(_canonical(body)).hexdigest() == checksum:
        return body
    raise ValueError("checksum mismatch")
