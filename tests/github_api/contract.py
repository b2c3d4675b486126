"""GitHub's published API descriptions, loaded from ``vendor/`` and compiled for fast checks.

The fake server asks this module whether a request is one GitHub would accept. REST requests are
checked against the OpenAPI description (operation exists, path/query parameters, JSON body);
GraphQL documents against the SDL (``graphql.validate``) and their variables against the
operation's variable definitions. Validators are compiled once per operation because a full
OpenAPI request validator costs milliseconds per request.

Where PyGithub (or GitHub itself) relies on behaviour the description forbids, the exception is
listed in :data:`TOLERATED_DEVIATIONS` below, and nowhere else.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_ast_schema,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.language import (
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
)
from openapi_schema_validator import OAS30Validator

logger = logging.getLogger(__name__)

VENDOR_DIRECTORY = Path(__file__).resolve().parent / "vendor"
OPENAPI_PATH = VENDOR_DIRECTORY / "openapi-trimmed.json"
GRAPHQL_SDL_PATH = VENDOR_DIRECTORY / "schema.graphql"


@dataclass(frozen=True)
class ContractViolation:
    """One request GitHub would have rejected, as recorded by the server."""

    method: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.reason}"


# ----- tolerated deviations ---------------------------------------------------------------


@dataclass(frozen=True)
class ToleratedDeviation:
    """A request shape GitHub accepts although its published description forbids it.

    ``applies`` recognises the shape in a JSON body; ``documented_form`` rewrites the body into
    the shape the description allows, and that rewritten body is what gets validated (None:
    accept the body without schema checks). The route still sees the original body, so the
    behaviour GitHub shows is kept.
    """

    method: str
    path_template: str
    why: str
    applies: Callable[[Any], bool]
    documented_form: Callable[[Any], Any]


def _has_null_milestone(body: Any) -> bool:
    return isinstance(body, dict) and "milestone" in body and body["milestone"] is None


def _without_milestone(body: Any) -> Any:
    return {key: value for key, value in body.items() if key != "milestone"}


def _is_bare_list(body: Any) -> bool:
    return isinstance(body, list)


def _wrap_bare_list(body: Any) -> Any:
    return {"labels": body}


def _has_empty_label_list(body: Any) -> bool:
    return body == [] or (isinstance(body, dict) and body.get("labels") == [])


def _accepted_as_is(body: Any) -> None:
    # No documented form exists (every branch needs minItems 1), so skip schema checks.
    return None


ISSUE_PATH = "/repos/{owner}/{repo}/issues/{issue_number}"
ISSUE_LABELS_PATH = "/repos/{owner}/{repo}/issues/{issue_number}/labels"

# Besides these body shapes, one reading of OpenAPI 3.0 is tolerated everywhere: null for a
# `nullable: true` schema whose enum omits null (see `_is_nullable_enum_null`).
TOLERATED_DEVIATIONS: tuple[ToleratedDeviation, ...] = (
    # The description marks `milestone` nullable but lists only string/integer in its oneOf,
    # so a strict validator refuses null. GitHub clears the milestone on null, and clients
    # (planner, other PyGithub users building raw bodies) send it.
    ToleratedDeviation(
        "PATCH",
        ISSUE_PATH,
        '"milestone": null clears the milestone',
        _has_null_milestone,
        _without_milestone,
    ),
    ToleratedDeviation(
        "POST",
        "/repos/{owner}/{repo}/issues",
        '"milestone": null means no milestone',
        _has_null_milestone,
        _without_milestone,
    ),
    # Setting an empty list removes every label (documented in prose, and what PyGithub's
    # set_labels() with no labels sends) but every schema branch says minItems: 1.
    ToleratedDeviation(
        "PUT",
        ISSUE_LABELS_PATH,
        '[] or {"labels": []} removes all labels',
        _has_empty_label_list,
        _accepted_as_is,
    ),
    # PyGithub's Issue.add_to_labels / set_labels send a bare JSON array of names. The
    # description's text says GitHub accepts that, but its schema only has the object form.
    ToleratedDeviation(
        "POST",
        ISSUE_LABELS_PATH,
        "bare array of label names (PyGithub add_to_labels)",
        _is_bare_list,
        _wrap_bare_list,
    ),
    ToleratedDeviation(
        "PUT",
        ISSUE_LABELS_PATH,
        "bare array of label names (PyGithub set_labels)",
        _is_bare_list,
        _wrap_bare_list,
    ),
)


# ----- REST --------------------------------------------------------------------------------


def _validator_for(schema: Mapping[str, Any], components: Mapping[str, Any]) -> OAS30Validator:
    """Compile an OpenAPI 3.0 schema whose ``#/components/...`` references resolve locally."""
    rooted = dict(schema)
    # Local references are resolved against the root resource, so carry the components along.
    rooted["components"] = components
    return OAS30Validator(rooted, format_checker=OAS30Validator.FORMAT_CHECKER)


def _coerce_parameter(raw: str, schema: Mapping[str, Any]) -> Any:
    """Turn a query/path string into the JSON type its schema expects (or leave it for errors)."""
    expected = schema.get("type")
    if expected == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if expected == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if expected == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if expected == "array":
        return raw.split(",") if raw else []
    return raw


def _is_nullable_enum_null(error: Any) -> bool:
    """True for ``null`` refused by an ``enum`` of a schema marked ``nullable: true``.

    The description marks such fields (e.g. ``state_reason``) nullable without listing null
    in the enum; GitHub sends and accepts null there, so that reading of OpenAPI 3.0 wins.
    """
    return (
        error.validator == "enum"
        and error.instance is None
        and isinstance(error.schema, dict)
        and bool(error.schema.get("nullable"))
    )


def _error_summary(validator: OAS30Validator, instance: Any) -> list[str]:
    reasons = []
    for error in validator.iter_errors(instance):
        if _is_nullable_enum_null(error):
            continue
        location = "/".join(str(part) for part in error.absolute_path)
        # oneOf messages quote whole schemas; the start is enough to see what went wrong.
        message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        reasons.append(f"{location or '(root)'}: {message}")
    return reasons


@dataclass
class RestParameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: OAS30Validator = field(repr=False)


@dataclass
class RestOperation:
    """One method on one path template, with its compiled validators."""

    method: str
    template: str
    operation_id: str
    parameters: list[RestParameter]
    body_schema: dict[str, Any] | None = field(repr=False)
    body_required: bool
    responses: dict[str, Any] = field(repr=False)
    components: dict[str, Any] = field(repr=False)
    pattern: re.Pattern[str] = field(init=False)
    literal_segments: int = field(init=False)
    _body_validator: OAS30Validator | None = field(init=False, default=None, repr=False)
    _response_validators: dict[str, OAS30Validator | None] = field(
        init=False, default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        segments = self.template.strip("/").split("/")
        self.literal_segments = sum(1 for s in segments if not s.startswith("{"))
        regex = "".join(
            f"/(?P<{s[1:-1]}>[^/]+)" if s.startswith("{") else "/" + re.escape(s)
            for s in segments
            if s
        )
        self.pattern = re.compile(f"^{regex or '/'}$")
        if self.body_schema is not None:
            self._body_validator = _validator_for(self.body_schema, self.components)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        if found is None:
            return None
        return {key: urllib.parse.unquote(value) for key, value in found.groupdict().items()}

    def check_parameters(
        self, path_values: Mapping[str, str], query: Mapping[str, list[str]]
    ) -> tuple[dict[str, Any], list[str]]:
        """Coerce and validate path/query parameters.

        Unknown query keys are ignored, as GitHub does.
        """
        values: dict[str, Any] = {}
        reasons: list[str] = []
        for parameter in self.parameters:
            if parameter.location == "path":
                raw: str | None = path_values.get(parameter.name)
            elif parameter.location == "query":
                given = query.get(parameter.name)
                raw = given[-1] if given else None
            else:
                continue
            if raw is None:
                if parameter.required:
                    reasons.append(
                        f"missing required {parameter.location} parameter {parameter.name}"
                    )
                continue
            value = _coerce_parameter(raw, parameter.schema)
            for problem in _error_summary(parameter.validator, value):
                reasons.append(f"{parameter.location} parameter {parameter.name}: {problem}")
            values[parameter.name] = value
        return values, reasons

    def check_body(self, body: Any, has_body: bool) -> tuple[list[str], list[str]]:
        """Validate a JSON body; returns (reasons it is refused, deviations tolerated)."""
        if self._body_validator is None:
            return [], []
        if not has_body:
            return (["request body is required"] if self.body_required else []), []

        tolerated: list[str] = []
        candidate = body
        for deviation in TOLERATED_DEVIATIONS:
            if (
                deviation.method == self.method
                and deviation.path_template == self.template
                and deviation.applies(candidate)
            ):
                candidate = deviation.documented_form(candidate)
                tolerated.append(deviation.why)
                if candidate is None:
                    return [], tolerated
        return _error_summary(self._body_validator, candidate), tolerated

    def check_response(self, status: int, body: Any) -> list[str]:
        """Validate a response body the fake produced against the documented response schema."""
        key = str(status)
        if key not in self._response_validators:
            self._response_validators[key] = self._compile_response(key)
        validator = self._response_validators[key]
        if validator is None:
            if key not in self.responses:
                return [f"status {status} is not a documented response"]
            return []
        return _error_summary(validator, body)

    def _compile_response(self, key: str) -> OAS30Validator | None:
        response = self.responses.get(key)
        if response is None:
            return None
        if "$ref" in response:
            response = self.components["responses"][response["$ref"].rsplit("/", 1)[-1]]
        schema = (response.get("content") or {}).get("application/json", {}).get("schema")
        return None if schema is None else _validator_for(schema, self.components)


class RestContract:
    """Every REST operation in the vendored description, matched by method and path."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.description = description
        components = description.get("components", {})
        self.operations: list[RestOperation] = []
        for template, path_item in description["paths"].items():
            shared = path_item.get("parameters", [])
            for method, operation in path_item.items():
                if method == "parameters":
                    continue
                self.operations.append(
                    self._compile(method.upper(), template, operation, shared, components)
                )
        # Prefer templates with more literal segments: /issues/comments/{id} over /issues/{n}.
        self.operations.sort(key=lambda op: -op.literal_segments)

    @staticmethod
    def _compile(
        method: str,
        template: str,
        operation: dict[str, Any],
        shared: list[dict[str, Any]],
        components: dict[str, Any],
    ) -> RestOperation:
        parameters: list[RestParameter] = []
        for declared in [*shared, *operation.get("parameters", [])]:
            if "$ref" in declared:
                declared = components["parameters"][declared["$ref"].rsplit("/", 1)[-1]]
            schema = declared.get("schema", {})
            parameters.append(
                RestParameter(
                    name=declared["name"],
                    location=declared["in"],
                    required=bool(declared.get("required")),
                    schema=schema,
                    validator=_validator_for(schema, components),
                )
            )
        request_body = operation.get("requestBody")
        body_schema = None
        body_required = False
        if request_body is not None:
            body_schema = request_body["content"]["application/json"]["schema"]
            body_required = bool(request_body.get("required"))
        return RestOperation(
            method=method,
            template=template,
            operation_id=operation.get("operationId", f"{method} {template}"),
            parameters=parameters,
            body_schema=body_schema,
            body_required=body_required,
            responses=operation.get("responses", {}),
            components=components,
        )

    def find(self, method: str, path: str) -> tuple[RestOperation, dict[str, str]] | None:
        for operation in self.operations:
            if operation.method != method:
                continue
            values = operation.match(path)
            if values is not None:
                return operation, values
        return None

    def path_exists(self, path: str) -> bool:
        return any(operation.match(path) is not None for operation in self.operations)


@functools.cache
def load_rest_contract() -> RestContract:
    """The REST description, parsed and compiled once per process."""
    description = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return RestContract(description)


# ----- GraphQL -----------------------------------------------------------------------------

_FieldHolder = (
    ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode
)


def _drop_repeated_fields(document: DocumentNode) -> DocumentNode:
    """The published SDL declares a few fields twice; keep the first declaration of each."""
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, _FieldHolder) and definition.fields:
            seen: set[str] = set()
            unique: list[Any] = []
            for declared in definition.fields:
                if declared.name.value not in seen:
                    seen.add(declared.name.value)
                    unique.append(declared)
            if len(unique) != len(definition.fields):
                logger.debug("dropped repeated fields in %s", definition.name.value)
                definition = definition.__class__(
                    **{key: getattr(definition, key) for key in definition.keys if key != "fields"},
                    fields=tuple(unique),
                )
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


@functools.cache
def load_graphql_schema() -> GraphQLSchema:
    """GitHub's GraphQL schema, built once per process (about a second)."""
    document = parse(GRAPHQL_SDL_PATH.read_text(encoding="utf-8"), no_location=True)
    schema = build_ast_schema(_drop_repeated_fields(document), assume_valid_sdl=True)
    # GitHub deprecates fields on types whose interface field is not deprecated, which newer
    # graphql-core versions refuse; the schema is GitHub's own, so accept it as it is.
    schema._validation_errors = []
    return schema


@dataclass
class GraphQLRequestCheck:
    """The outcome of checking one GraphQL HTTP payload before executing it."""

    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    errors: list[GraphQLError] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def check_graphql_request(payload: Any) -> GraphQLRequestCheck:
    """Parse, validate and coerce variables of a GraphQL HTTP payload against GitHub's schema."""
    check = GraphQLRequestCheck()
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        check.reasons.append('body must be a JSON object with a "query" string')
        check.errors.append(
            GraphQLError("A query attribute must be specified and must be a string.")
        )
        return check
    raw_variables = payload.get("variables") or {}
    if not isinstance(raw_variables, dict):
        check.reasons.append('"variables" must be a JSON object')
        check.errors.append(GraphQLError("Variables must be an object."))
        return check

    schema = load_graphql_schema()
    try:
        document = parse(payload["query"])
    except GraphQLError as error:
        check.errors.append(error)
        check.reasons.append(f"parse error: {error.message}")
        return check
    check.document = document

    validation_errors = validate(schema, document)
    if validation_errors:
        check.errors.extend(validation_errors)
        check.reasons.extend(f"invalid document: {error.message}" for error in validation_errors)
        return check

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    wanted_name = payload.get("operationName")
    if wanted_name:
        operations = [o for o in operations if o.name and o.name.value == wanted_name]
    if len(operations) != 1:
        message = "An operation name is required" if operations else "No operation named"
        check.errors.append(GraphQLError(message))
        check.reasons.append(message)
        return check
    check.operation = operations[0]

    coerced = get_variable_values(schema, check.operation.variable_definitions or (), raw_variables)
    if isinstance(coerced, list):
        check.errors.extend(coerced)
        check.reasons.extend(f"invalid variables: {error.message}" for error in coerced)
        return check
    check.variables = raw_variables
    return check
