"""The last parsed configuration, kept so that an unchanged configuration is not parsed again.

Python's TOML parser is written in Python: a configuration declaring 100,000 files takes
seconds to parse, longer than everything else an unchanged plan does. This cache keeps the
merged document the parser produced (plain JSON values, before validation) under the
SHA-256 of every configuration file's name and bytes, in ``<state_dir>/config.parsed``. A hit
skips only the parsing: the document is validated by the models every time, so a change to
the models, or to what they accept, takes effect at once.

It is a disposable file (``planner.cachefile``): owner-only, sealed, written only into an
existing state folder, ignored when missing, damaged or for other bytes. Only a
configuration that loaded without error is stored, and only when its document survives a
JSON round trip unchanged (TOML dates, times and NaN do not; none is valid in a
configuration anyway).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from planner.cachefile import read_sealed, write_sealed

logger = logging.getLogger(__name__)

PARSED_FILE = "config.parsed"
FORMAT = "planner-parsed-config/1"


class ParsedConfigCache:
    """The cached parse of the configuration whose bytes hash to ``config_sha256``."""

    def __init__(self, state_dir: Path, config_sha256: str) -> None:
        self.state_dir = state_dir
        self.config_sha256 = config_sha256

    @property
    def path(self) -> Path:
        return self.state_dir / PARSED_FILE

    def _identity(self) -> dict[str, str]:
        # The parser comes with the interpreter: another Python may parse differently.
        return {"format": FORMAT, "configuration": self.config_sha256, "python": sys.version}

    def load(self) -> dict[str, Any] | None:
        """The merged document parsed from exactly these bytes before, or None."""
        body = read_sealed(self.path, self._identity())
        if body is None:
            return None
        try:
            document = json.loads(body)
        except ValueError:
            logger.warning("the cache %s is damaged; parsing the configuration", self.path)
            return None
        if not isinstance(document, dict):
            return None
        logger.debug("configuration parse taken from %s", self.path)
        return document

    def store(self, document: dict[str, Any]) -> None:
        """Keep ``document`` for the next load; a failure is logged and costs only speed."""
        if not self.state_dir.is_dir():
            return
        try:
            body = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError):
            logger.debug("the configuration holds values JSON cannot carry; not cached")
            return
        if json.loads(body) != document:
            logger.debug("the configuration does not survive a JSON round trip; not cached")
            return
        write_sealed(self.state_dir, PARSED_FILE, self._identity(), body)
