"""Regenerate the vendored GitHub API contract from the npm packages that publish it.

GitHub publishes its REST description as the npm package ``@octokit/openapi`` and its GraphQL
schema as ``@octokit/graphql-schema``. The fake server in ``tests/github_api`` validates every
request against them, but the full REST description is 13 MB, so this script keeps only the
operations the fake implements plus every component those operations reference.

Usage (the only step that needs npm and the network; the tests never do)::

    cd "$(mktemp -d)" && npm install @octokit/openapi @octokit/graphql-schema
    python tests/github_api/vendor/regenerate.py "$PWD/node_modules/@octokit"
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

VENDOR_DIRECTORY = Path(__file__).resolve().parent

TRIMMED_OPENAPI_NAME = "openapi-trimmed.json"
GRAPHQL_SCHEMA_NAME = "schema.graphql"

# Every REST operation the fake server implements, keyed by the description's path template.
# The server refuses (as a contract violation) anything not listed in the trimmed description.
IMPLEMENTED_OPERATIONS: dict[str, tuple[str, ...]] = {
    "/repos/{owner}/{repo}": ("get",),
    "/repos/{owner}/{repo}/issues": ("get", "post"),
    "/repos/{owner}/{repo}/issues/{issue_number}": ("get", "patch"),
    "/repos/{owner}/{repo}/labels": ("get", "post"),
    "/repos/{owner}/{repo}/labels/{name}": ("get", "patch", "delete"),
    "/repos/{owner}/{repo}/issues/{issue_number}/labels": ("get", "post", "put", "delete"),
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": ("delete",),
    "/repos/{owner}/{repo}/milestones": ("get", "post"),
    "/repos/{owner}/{repo}/milestones/{milestone_number}": ("get",),
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ("get", "post"),
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ("get", "patch", "delete"),
    "/repos/{owner}/{repo}/issues/{issue_number}/assignees": ("post", "delete"),
    "/user": ("get",),
    "/users/{username}": ("get",),
    "/rate_limit": ("get",),
}

# Keys that only document (they never constrain a request or a response), dropped to keep the
# vendored file small.
DOCUMENTATION_ONLY_KEYS = frozenset({"examples", "x-github", "externalDocs"})


def _strip_documentation(node: Any) -> Any:
    """Return a copy of ``node`` without documentation-only keys such as ``examples``."""
    if isinstance(node, dict):
        return {
            key: _strip_documentation(value)
            for key, value in node.items()
            if key not in DOCUMENTATION_ONLY_KEYS
        }
    if isinstance(node, list):
        return [_strip_documentation(item) for item in node]
    return node


def _collect_references(node: Any, found: set[str]) -> None:
    """Add every ``$ref`` target found anywhere inside ``node`` to ``found``."""
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            found.add(reference)
        for value in node.values():
            _collect_references(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect_references(item, found)


def _resolve_pointer(document: dict[str, Any], reference: str) -> Any:
    """Follow a local JSON pointer like ``#/components/schemas/issue``."""
    if not reference.startswith("#/"):
        raise ValueError(f"only local references are supported, got {reference!r}")
    target: Any = document
    for part in reference[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def trim_openapi(full: dict[str, Any]) -> dict[str, Any]:
    """Keep only the implemented operations and the components they (transitively) reference."""
    paths: dict[str, Any] = {}
    for template, methods in IMPLEMENTED_OPERATIONS.items():
        path_item = full["paths"][template]
        kept = {method: path_item[method] for method in methods}
        if "parameters" in path_item:
            kept["parameters"] = path_item["parameters"]
        paths[template] = _strip_documentation(kept)

    # Walk references until no new one appears: components refer to other components.
    pending: set[str] = set()
    _collect_references(paths, pending)
    resolved: dict[str, Any] = {}
    while pending:
        reference = pending.pop()
        if reference in resolved:
            continue
        target = _strip_documentation(_resolve_pointer(full, reference))
        resolved[reference] = target
        nested: set[str] = set()
        _collect_references(target, nested)
        pending |= nested - resolved.keys()

    components: dict[str, dict[str, Any]] = {}
    for reference, target in sorted(resolved.items()):
        _, _, section, name = reference.split("/", 3)
        components.setdefault(section, {})[name] = target

    return {
        "openapi": full["openapi"],
        "info": {
            "title": full["info"]["title"],
            "version": full["info"]["version"],
            "description": "Trimmed by tests/github_api/vendor/regenerate.py; see README.md.",
        },
        "servers": full.get("servers", []),
        "paths": paths,
        "components": components,
    }


def _package_version(package_directory: Path) -> str:
    manifest = json.loads((package_directory / "package.json").read_text(encoding="utf-8"))
    return str(manifest["version"])


def _readme(openapi_version: str, graphql_version: str, api_version: str) -> str:
    return f"""# Vendored GitHub API contract

The fake GitHub server in `tests/github_api` checks every request it receives against
GitHub's own published API descriptions. They are vendored here so tests run offline.

- `{TRIMMED_OPENAPI_NAME}`: npm `@octokit/openapi` {openapi_version}, file
  `generated/api.github.com.json` (API description {api_version}), trimmed to the operations
  the fake implements plus every component they reference, without `examples`.
- `{GRAPHQL_SCHEMA_NAME}`: npm `@octokit/graphql-schema` {graphql_version}, file
  `schema.graphql` (its `schema.json` is older and is not used).
- `LICENSE-octokit-openapi`: the `LICENSE` of `@octokit/openapi` {openapi_version}.
- `LICENSE-octokit-graphql-schema.md`: the `LICENSE.md` of `@octokit/graphql-schema`
  {graphql_version}.

## Regenerate

Needs npm and the network (the tests never do):

```sh
cd "$(mktemp -d)" && npm install @octokit/openapi @octokit/graphql-schema
python /path/to/repo/tests/github_api/vendor/regenerate.py "$PWD/node_modules/@octokit"
```

To serve a new REST operation, add it to `IMPLEMENTED_OPERATIONS` in `regenerate.py`,
regenerate, and implement it in `tests/github_api/rest_routes.py`.
"""


def regenerate(octokit_directory: Path, output_directory: Path = VENDOR_DIRECTORY) -> None:
    """Write the trimmed REST description, the GraphQL SDL, licenses and README."""
    openapi_package = octokit_directory / "openapi"
    graphql_package = octokit_directory / "graphql-schema"

    full = json.loads(
        (openapi_package / "generated" / "api.github.com.json").read_text(encoding="utf-8")
    )
    trimmed = trim_openapi(full)
    trimmed_text = json.dumps(trimmed, indent=1, sort_keys=True) + "\n"
    (output_directory / TRIMMED_OPENAPI_NAME).write_text(trimmed_text, encoding="utf-8")
    logger.info("wrote %s (%d bytes)", TRIMMED_OPENAPI_NAME, len(trimmed_text))

    shutil.copyfile(graphql_package / "schema.graphql", output_directory / GRAPHQL_SCHEMA_NAME)
    shutil.copyfile(openapi_package / "LICENSE", output_directory / "LICENSE-octokit-openapi")
    shutil.copyfile(
        graphql_package / "LICENSE.md", output_directory / "LICENSE-octokit-graphql-schema.md"
    )

    readme = _readme(
        _package_version(openapi_package),
        _package_version(graphql_package),
        str(full["info"]["version"]),
    )
    (output_directory / "README.md").write_text(readme, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "octokit_directory",
        type=Path,
        help="the node_modules/@octokit directory holding openapi/ and graphql-schema/",
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    regenerate(arguments.octokit_directory)


if __name__ == "__main__":
    main()
