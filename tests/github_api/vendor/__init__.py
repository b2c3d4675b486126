"""GitHub's API descriptions, vendored for offline contract checks (see README.md)."""
