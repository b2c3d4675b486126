"""A stateful fake of GitHub's REST and GraphQL APIs on loopback HTTP, checked against GitHub's
published descriptions.

Start it with :func:`start_server` (or the ``github_server`` pytest fixture). Point PyGithub at
``server.url`` (GraphQL then lives at ``server.url + "/graphql"``) or at
``server.enterprise_url`` (``/api/v3`` for REST and ``/api/graphql``).

Every request is checked against the vendored contract (see ``contract.py``). A request GitHub
would refuse is answered the way GitHub answers it and recorded in ``server.violations``;
the pytest fixture fails the test at teardown if any are left. Bugs in the fake itself (an
exception, or a response that does not match the documented schema when
``validate_responses`` is on) are recorded in ``server.internal_errors`` and fail tests too.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import itertools
import json
import logging
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graphql import OperationType

from . import rest_routes
from .contract import ContractViolation, check_graphql_request, load_rest_contract
from .faults import Fault, FaultKind, FaultPlan, RequestFacts
from .github_state import GitHubState, Issue, Label, Milestone, Repository, User
from .graphql_api import (
    GitHubGraphQLError,
    GraphQLContext,
    analyse_operation,
    execute_operation,
    github_error_entry,
    root_cause,
    unimplemented_root_fields,
)
from .request_log import LoggedRequest, RequestKind, RequestLog

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "ghp_fakeGitHubTokenForPlannerTests0000000"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)
GRAPHQL_TIMEOUT_MESSAGE = (
    "Something went wrong while executing your query. This may be the result of a timeout, or "
    "it could be a GitHub bug. Please include `{request_id}` when reporting this issue."
)
# Points GitHub charges mutating requests against the secondary (content creation) limit.
SECONDARY_POINTS_PER_MUTATION = 5


@dataclass
class RateBudget:
    """One primary rate-limit bucket (per token and resource), reset hourly on wall time."""

    limit: int
    used: int = 0
    reset_epoch: int = field(default_factory=lambda: int(time.time()) + 3600)

    def roll_over(self) -> None:
        now = int(time.time())
        if now >= self.reset_epoch:
            self.used = 0
            self.reset_epoch = now + 3600

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def as_json(self) -> dict[str, int]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "used": self.used,
            "reset": self.reset_epoch,
        }


@dataclass
class ServerAnswer:
    """A response about to be written (or, with ``drop``, a connection about to be cut)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    raw_body: bytes | None = None


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP into :meth:`FakeGitHub.serve` calls; one instance per connection."""

    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        answer = self.server.fake.serve(self.command, self.path, dict(self.headers), raw)
        if answer.drop:
            # Cut the connection with no status line: the client sees a dropped response.
            self.close_connection = True
            return
        payload = answer.raw_body if answer.raw_body is not None else b""
        if answer.raw_body is None and answer.body is not None:
            payload = json.dumps(answer.body).encode()
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() == "date":
                    continue  # send_response sent it, from the server clock (below)
                self.send_header(name, value)
            if payload or answer.status not in (204, 304):
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. a timeout fault); nothing left to tell it.
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _dispatch

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, from the server clock: GitHub sends one, from its own clock."""
        return email.utils.format_datetime(self.server.fake.clock.now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Do not wait at shutdown for handlers still sleeping in a delay fault.
    block_on_close = False

    def __init__(self, address: tuple[str, int], fake: FakeGitHub) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class FakeGitHub:
    """The fake server: setup API, inspection API, fault injection and the HTTP front.

    Setup: :meth:`create_repository`, :meth:`add_user`, :meth:`add_label`,
    :meth:`add_milestone`, :meth:`add_issue`, :meth:`add_comment`, :meth:`seed_issues`.
    Inspection: :meth:`issue`, :meth:`issues`, :meth:`labels`, :attr:`state`.
    Clock: :meth:`set_time`, :meth:`advance_time`, ``clock.seconds_per_write``.
    Faults: :meth:`inject` and its shorthands; :meth:`set_latency`.
    Log: :attr:`log`, :meth:`counts`, :meth:`reset_log`.
    Contract: :attr:`violations`, :meth:`take_violations`, :attr:`internal_errors`.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        viewer_login: str = "planner-bot",
        latency: float = 0.0,
        validate_responses: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.state = GitHubState(viewer_login)
        self.clock = self.state.clock
        self.latency = latency
        self.validate_responses = validate_responses
        self.log = RequestLog()
        self.faults = FaultPlan()
        self.violations: list[ContractViolation] = []
        self.tolerated: list[ContractViolation] = []
        self.internal_errors: list[str] = []
        self.secondary_points_used = 0
        self._budgets: dict[tuple[str, str], RateBudget] = {}
        self._request_ids = itertools.count(1)
        self._bookkeeping = threading.Lock()
        self._contract = load_rest_contract()
        self._http = _HttpServer((host, port), self)
        self._thread: threading.Thread | None = None

    # ----- lifecycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for ``github.Github(base_url=...)``; GraphQL is at ``url + "/graphql"``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def enterprise_url(self) -> str:
        """The GitHub Enterprise layout: REST under ``/api/v3``, GraphQL at ``/api/graphql``."""
        return f"{self.url}/api/v3"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def start(self) -> FakeGitHub:
        self._thread = threading.Thread(
            # A short poll interval keeps shutdown (once per test) quick.
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()
        logger.info("fake GitHub serving at %s", self.url)
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def github(self, **options: Any) -> Any:
        """A PyGithub client for this server: no throttling, no retries unless asked."""
        import github

        settings: dict[str, Any] = {
            "base_url": self.url,
            "auth": github.Auth.Token(self.token),
            "seconds_between_requests": 0,
            "seconds_between_writes": 0,
            "retry": None,
            "timeout": 10,
        }
        settings.update(options)
        return github.Github(**settings)

    # ----- setup and inspection ----------------------------------------------------------

    def create_repository(
        self, full_name: str, *, private: bool = False, description: str | None = None
    ) -> Repository:
        return self.state.create_repository(full_name, private=private, description=description)

    def repository(self, full_name: str) -> Repository:
        owner, _, name = full_name.partition("/")
        return self.state.get_repository(owner, name)

    def add_user(self, login: str, *, name: str | None = None) -> User:
        return self.state.add_user(login, name=name)

    def add_label(
        self,
        full_name: str,
        name: str,
        color: str = "ededed",
        description: str | None = None,
    ) -> Label:
        return self.state.create_label(self.repository(full_name), name, color, description)

    def add_milestone(self, full_name: str, title: str, **options: Any) -> Milestone:
        return self.state.create_milestone(self.repository(full_name), title, **options)

    def add_issue(self, full_name: str, title: str, **options: Any) -> Issue:
        """Create an issue directly; options as :meth:`GitHubState.create_issue`
        (``body``, ``label_names``, ``assignees``, ``milestone_number``, ``state``, ...)."""
        return self.state.create_issue(self.repository(full_name), title, **options)

    def add_comment(self, full_name: str, number: int, body: str) -> Any:
        return self.state.add_comment(self.issue(full_name, number), body)

    def seed_issues(self, full_name: str, count: int, *, labels: int = 3) -> list[Issue]:
        """Fill a repository with ``count`` issues spread over a few labels (benchmarks)."""
        repository = self.repository(full_name)
        label_names = [f"area-{index}" for index in range(labels)]
        for name in label_names:
            if repository.label_named(name) is None:
                self.state.create_label(repository, name)
        created = []
        for index in range(count):
            created.append(
                self.state.create_issue(
                    repository,
                    f"Seeded issue {index + 1}",
                    body=f"Body of seeded issue {index + 1}.",
                    label_names=[label_names[index % labels]] if labels else [],
                )
            )
        return created

    def issue(self, full_name: str, number: int) -> Issue:
        return self.state.get_issue(self.repository(full_name), number)

    def issues(self, full_name: str) -> list[Issue]:
        return sorted(self.repository(full_name).issues.values(), key=lambda i: i.number)

    def labels(self, full_name: str) -> list[Label]:
        return list(self.repository(full_name).labels.values())

    def set_time(self, moment: datetime | str, *, frozen: bool = True) -> None:
        self.clock.set(moment, frozen=frozen)

    def advance_time(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # ----- rate limits -------------------------------------------------------------------

    def _budget(self, identity: str, resource: str) -> RateBudget:
        key = (identity, resource)
        if key not in self._budgets:
            limit = 60 if identity.startswith("anonymous") else 5000
            self._budgets[key] = RateBudget(limit=limit)
        budget = self._budgets[key]
        budget.roll_over()
        return budget

    def set_rate_limit(
        self, resource: str = "core", *, remaining: int, limit: int | None = None
    ) -> None:
        """Set the token's primary budget (``core`` or ``graphql``), e.g. to exhaust it."""
        with self.state.lock:
            budget = self._budget(f"token:{self.token}", resource)
            if limit is not None:
                budget.limit = limit
            budget.used = max(budget.limit - remaining, 0)

    def _rate_limit_overview(self, identity: str) -> dict[str, Any]:
        core = self._budget(identity, "core").as_json()
        resources = {
            name: self._budget(identity, name).as_json()
            for name in ("core", "graphql", "search", "code_search", "integration_manifest")
        }
        return {"resources": resources, "rate": core}

    # ----- faults, latency, log and violations -------------------------------------------

    def inject(self, kind: FaultKind, **scope: Any) -> Fault:
        """Schedule a fault. ``scope``: times, status, kinds (set of request kinds), method,
        path_contains, operation (REST operationId or GraphQL root field), predicate,
        delay_seconds, retry_after, reset_in_seconds, apply_change."""
        kinds = scope.pop("kinds", None)
        if isinstance(kinds, str):
            kinds = {kinds}
        return self.faults.add(Fault(kind=kind, kinds=frozenset(kinds) if kinds else None, **scope))

    def fail_next(self, status: int = 502, times: int = 1, **scope: Any) -> Fault:
        """The next ``times`` matching requests get a 5xx without being applied."""
        return self.inject("server_error", status=status, times=times, **scope)

    def delay_next(self, seconds: float, times: int = 1, **scope: Any) -> Fault:
        return self.inject("delay", delay_seconds=seconds, times=times, **scope)

    def secondary_rate_limit(self, times: int = 1, status: int = 403, **scope: Any) -> Fault:
        return self.inject("secondary_rate_limit", times=times, status=status, **scope)

    def primary_rate_limit(self, times: int = 1, status: int | None = None, **scope: Any) -> Fault:
        return self.inject("primary_rate_limit", times=times, status=status, **scope)

    def drop_response_after_apply(self, times: int = 1, **scope: Any) -> Fault:
        return self.inject("drop_response", times=times, **scope)

    def graphql_timeout(self, times: int = 1, **scope: Any) -> Fault:
        return self.inject("graphql_timeout", times=times, **scope)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_latency(self, seconds: float) -> None:
        """Sleep this long before every API request (outside the state lock)."""
        self.latency = seconds

    def counts(self) -> dict[str, int]:
        return self.log.counts()

    def reset_log(self) -> None:
        self.log.reset()

    def take_violations(self) -> list[ContractViolation]:
        """Return and forget the recorded violations (for tests that expect some)."""
        with self._bookkeeping:
            taken, self.violations = self.violations, []
        return taken

    def _violation(self, method: str, path: str, reason: str) -> None:
        logger.warning("contract violation: %s %s: %s", method, path, reason)
        with self._bookkeeping:
            self.violations.append(ContractViolation(method, path, reason))

    def _internal_error(self, description: str) -> None:
        logger.error("fake GitHub bug: %s", description)
        with self._bookkeeping:
            self.internal_errors.append(description)

    # ----- request handling --------------------------------------------------------------

    def serve(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> ServerAnswer:
        """Answer one HTTP request; never raises (a crash becomes a 500 and an internal error)."""
        split = urllib.parse.urlsplit(target)
        if split.path.startswith("/_control/"):
            return self._serve_control(method, split.path, raw)
        started = time.monotonic()
        request_id = f"FAKE:{next(self._request_ids):06d}"
        try:
            answer, entry = self._serve_api(method, split, headers, raw, request_id)
        except Exception:
            self._internal_error(f"{method} {target} raised:\n{traceback.format_exc()}")
            answer = ServerAnswer(500, {"message": "Server Error"})
            entry = LoggedRequest(method, split.path, "rest-read", 500)
        answer.headers.setdefault("X-GitHub-Request-Id", request_id)
        answer.headers["Date"] = email.utils.format_datetime(self.clock.now(), usegmt=True)
        seconds = time.monotonic() - started
        self.log.record(
            LoggedRequest(
                method=entry.method,
                path=entry.path,
                kind=entry.kind,
                status=None if answer.drop else answer.status,
                operation=entry.operation,
                graphql_fields=entry.graphql_fields,
                fault=entry.fault,
                rate_limit_cost=entry.rate_limit_cost,
                seconds=round(seconds, 4),
            )
        )
        return answer

    def _authenticate(self, headers: dict[str, str]) -> tuple[str | None, bool]:
        """(identity, bad credentials?). Identity None means no token was sent."""
        lowered = {name.lower(): value for name, value in headers.items()}
        authorization = lowered.get("authorization")
        if not authorization:
            return None, False
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() not in ("token", "bearer") or credential.strip() != self.token:
            return None, True
        return f"token:{self.token}", False

    def _serve_api(
        self,
        method: str,
        split: urllib.parse.SplitResult,
        headers: dict[str, str],
        raw: bytes,
        request_id: str,
    ) -> tuple[ServerAnswer, LoggedRequest]:
        path = split.path
        prefix = "/api/v3" if path == "/api/v3" or path.startswith("/api/v3/") else ""
        if path in ("/graphql", "/api/graphql"):
            api_root = self.url + ("/api/v3" if path == "/api/graphql" else "")
            return self._serve_graphql(method, path, headers, raw, api_root, request_id)
        rest_path = path[len(prefix) :] or "/"
        return self._serve_rest(
            method, path, rest_path, split.query, headers, raw, self.url + prefix, request_id
        )

    # ----- REST --------------------------------------------------------------------------

    def _serve_rest(
        self,
        method: str,
        path: str,
        rest_path: str,
        query_string: str,
        headers: dict[str, str],
        raw: bytes,
        api_root: str,
        request_id: str,
    ) -> tuple[ServerAnswer, LoggedRequest]:
        kind: RequestKind = "rest-read" if method in ("GET", "HEAD") else "rest-write"
        entry = LoggedRequest(method, path, kind, 0)
        identity, bad_credentials = self._authenticate(headers)
        if bad_credentials:
            return self._unauthorized("Bad credentials"), entry

        found = self._contract.find("GET" if method == "HEAD" else method, rest_path)
        if found is None:
            reason = (
                "method not allowed for this path"
                if self._contract.path_exists(rest_path)
                else "no such operation in the REST description (or not implemented by the fake)"
            )
            self._violation(method, path, reason)
            return ServerAnswer(404, _basic_error("Not Found", 404)), entry
        operation, path_values = found
        entry = LoggedRequest(method, path, kind, 0, operation=operation.operation_id)

        # GitHub reads public data without a token (60 requests/hour), writes need one.
        if identity is None and (kind == "rest-write" or operation.operation_id in _TOKEN_ONLY):
            return self._unauthorized("Requires authentication"), entry

        query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
        parameters, reasons = operation.check_parameters(path_values, query)
        body: Any = None
        has_body = bool(raw.strip())
        if has_body:
            try:
                body = json.loads(raw)
            except ValueError:
                self._violation(method, path, "body is not valid JSON")
                return ServerAnswer(400, _basic_error("Problems parsing JSON", 400)), entry
        body_reasons, tolerated = operation.check_body(body, has_body)
        reasons.extend(body_reasons)
        for why in tolerated:
            self.tolerated.append(ContractViolation(method, path, f"tolerated: {why}"))
        if reasons:
            for reason in reasons:
                self._violation(method, path, reason)
            return ServerAnswer(422, _validation_failed(reasons)), entry

        self._sleep_for_latency()
        facts = RequestFacts(method, path, kind, operation.operation_id)
        fault = self.faults.take(facts)
        entry = LoggedRequest(
            method,
            path,
            kind,
            0,
            operation=operation.operation_id,
            fault=fault.kind if fault else None,
        )
        identity_key = identity or "anonymous:127.0.0.1"
        counts_against_limit = operation.operation_id != "rate-limit/get"

        early = self._answer_fault_before_apply(fault, "core", identity_key, graphql=False)
        if early is not None:
            return early, entry

        with self.state.lock:
            budget = self._budget(identity_key, "core")
            if counts_against_limit and budget.remaining <= 0:
                return self._primary_limit_answer(budget, "core", None, graphql=False), entry
            if kind == "rest-write":
                self.state.clock.tick_for_write()
            viewer = self.state.find_user(self.state.viewer_login) if identity else None
            request = rest_routes.RestRequest(
                method=method,
                path=rest_path,
                operation_id=operation.operation_id,
                parameters=parameters,
                query=query,
                body=body,
                api_root=api_root,
                viewer=viewer,
                url_without_query=api_root + rest_path,
                rate_limit_overview=lambda: self._rate_limit_overview(identity_key),
            )
            response = rest_routes.handle(self.state, request)
            if self.validate_responses and response.body is not None:
                for problem in operation.check_response(response.status, response.body):
                    self._internal_error(f"response to {method} {path}: {problem}")

            answer = ServerAnswer(response.status, response.body, dict(response.headers))
            if method in ("GET", "HEAD") and response.status == 200:
                etag = _etag(response.body, identity_key)
                answer.headers["ETag"] = etag
                if _etag_matches(headers, etag):
                    # Conditional requests that hit cost nothing against the primary limit.
                    answer = ServerAnswer(304, None, {"ETag": etag})
                    counts_against_limit = False
            if counts_against_limit:
                budget.used += 1
            answer.headers.update(_rate_headers(budget, "core"))
            answer.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
            if identity:
                answer.headers["X-OAuth-Scopes"] = "repo"
            if kind == "rest-write":
                self.secondary_points_used += SECONDARY_POINTS_PER_MUTATION

        entry = LoggedRequest(
            method,
            path,
            kind,
            answer.status,
            operation=operation.operation_id,
            fault=fault.kind if fault else None,
            rate_limit_cost=1 if counts_against_limit else 0,
        )
        return self._answer_fault_after_apply(fault, answer, request_id), entry

    def _unauthorized(self, message: str) -> ServerAnswer:
        return ServerAnswer(401, _basic_error(message, 401))

    # ----- GraphQL -----------------------------------------------------------------------

    def _serve_graphql(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
        api_root: str,
        request_id: str,
    ) -> tuple[ServerAnswer, LoggedRequest]:
        entry = LoggedRequest(method, path, "graphql-query", 0)
        if method != "POST":
            self._violation(method, path, "GraphQL accepts only POST")
            return ServerAnswer(404, _basic_error("Not Found", 404)), entry
        identity, bad_credentials = self._authenticate(headers)
        if bad_credentials:
            return self._unauthorized("Bad credentials"), entry
        if identity is None:
            # GitHub's GraphQL API has no anonymous access.
            message = "This endpoint requires you to be authenticated."
            return self._unauthorized(message), entry

        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            self._violation(method, path, "body is not valid JSON")
            return ServerAnswer(400, _basic_error("Problems parsing JSON", 400)), entry

        check = check_graphql_request(payload)
        is_mutation = (
            check.operation is not None and check.operation.operation == OperationType.MUTATION
        )
        kind: RequestKind = "graphql-mutation" if is_mutation else "graphql-query"
        if check.reasons:
            for reason in check.reasons:
                self._violation(method, path, reason)
            errors = [github_error_entry(error) for error in check.errors]
            return ServerAnswer(200, {"errors": errors}), LoggedRequest(method, path, kind, 200)

        assert check.operation is not None
        analysis = analyse_operation(check)
        operation_label = ",".join(dict.fromkeys(analysis.root_fields))
        entry = LoggedRequest(
            method,
            path,
            kind,
            200,
            operation=operation_label,
            graphql_fields=len(analysis.root_fields),
        )
        if analysis.errors:
            for refusal in analysis.errors:
                self._violation(method, path, f"{refusal['type']}: {refusal['message']}")
            return ServerAnswer(200, {"errors": analysis.errors}), entry
        missing = unimplemented_root_fields(check.operation)
        if missing:
            self._internal_error(f"GraphQL root fields not implemented by the fake: {missing}")
            message = f"The fake GitHub does not implement {missing}"
            return ServerAnswer(200, {"errors": [{"message": message}]}), entry

        self._sleep_for_latency()
        facts = RequestFacts(
            method, path, kind, operation_label, root_fields=tuple(analysis.root_fields)
        )
        fault = self.faults.take(facts)
        entry = LoggedRequest(
            method,
            path,
            kind,
            200,
            operation=operation_label,
            graphql_fields=len(analysis.root_fields),
            fault=fault.kind if fault else None,
        )
        identity_key = identity
        early = self._answer_fault_before_apply(fault, "graphql", identity_key, graphql=True)
        if early is not None:
            return early, entry

        # Mutations cost 1 point each request; queries their estimated connection cost.
        cost = 1 if is_mutation else analysis.cost
        with self.state.lock:
            budget = self._budget(identity_key, "graphql")
            if budget.remaining < cost:
                return self._primary_limit_answer(budget, "graphql", None, graphql=True), entry
            budget.used += cost
            if is_mutation:
                self.state.clock.tick_for_write()
                self.secondary_points_used += SECONDARY_POINTS_PER_MUTATION
            viewer = self.state.get_user(self.state.viewer_login)
            context = GraphQLContext(
                state=self.state,
                api_root=api_root,
                viewer=viewer,
                rate_limit=lambda: budget.as_json(),
                cost=cost,
            )
            result = execute_operation(check, context)
            body: dict[str, Any] = {"data": result.data}
            if result.errors:
                body["errors"] = [github_error_entry(error) for error in result.errors]
                for error in result.errors:
                    original = root_cause(error)
                    if original is not None and not isinstance(original, GitHubGraphQLError):
                        self._internal_error(
                            f"GraphQL resolver crashed at {error.path}: {original!r}\n"
                            + "".join(traceback.format_exception(original))
                        )
            answer = ServerAnswer(200, body, _rate_headers(budget, "graphql"))

        entry = LoggedRequest(
            method,
            path,
            kind,
            200,
            operation=operation_label,
            graphql_fields=len(analysis.root_fields),
            fault=fault.kind if fault else None,
            rate_limit_cost=cost,
        )
        return self._answer_fault_after_apply(fault, answer, request_id), entry

    # ----- shared steps ------------------------------------------------------------------

    def _sleep_for_latency(self) -> None:
        if self.latency > 0:
            time.sleep(self.latency)

    def _answer_fault_before_apply(
        self, fault: Fault | None, resource: str, identity: str, *, graphql: bool
    ) -> ServerAnswer | None:
        """Answers for faults that stop a request before it changes anything."""
        if fault is None:
            return None
        if fault.kind == "delay":
            time.sleep(fault.delay_seconds)
            return None
        with self.state.lock:
            budget = self._budget(identity, resource)
        if fault.kind == "secondary_rate_limit":
            status = fault.status or 403
            answer = ServerAnswer(
                status,
                {
                    "message": SECONDARY_LIMIT_MESSAGE.format(request_id="FAKE"),
                    "documentation_url": RATE_LIMIT_DOCS + "#about-secondary-rate-limits",
                    "status": str(status),
                },
                _rate_headers(budget, resource),
            )
            if fault.retry_after is not None:
                answer.headers["Retry-After"] = str(fault.retry_after)
            return answer
        if fault.kind == "primary_rate_limit":
            return self._primary_limit_answer(budget, resource, fault, graphql=graphql)
        if fault.apply_change:
            return None
        if fault.kind == "server_error":
            status = fault.status or 502
            return ServerAnswer(status, _server_error_body(status))
        if fault.kind == "graphql_timeout":
            return self._graphql_timeout_answer(fault)
        return None

    def _answer_fault_after_apply(
        self, fault: Fault | None, answer: ServerAnswer, request_id: str
    ) -> ServerAnswer:
        """Answers for faults that let the change happen and then lose or spoil the answer."""
        if fault is None:
            return answer
        if fault.kind == "drop_response":
            return ServerAnswer(0, drop=True)
        if fault.kind == "server_error" and fault.apply_change:
            status = fault.status or 502
            return ServerAnswer(status, _server_error_body(status))
        if fault.kind == "graphql_timeout" and fault.apply_change:
            return self._graphql_timeout_answer(fault)
        return answer

    def _graphql_timeout_answer(self, fault: Fault) -> ServerAnswer:
        status = fault.status or 200
        if status != 200:
            return ServerAnswer(status, _server_error_body(status))
        message = GRAPHQL_TIMEOUT_MESSAGE.format(request_id="FAKE:TIMEOUT")
        return ServerAnswer(200, {"data": None, "errors": [{"message": message}]})

    def _primary_limit_answer(
        self, budget: RateBudget, resource: str, fault: Fault | None, *, graphql: bool
    ) -> ServerAnswer:
        reset = budget.reset_epoch
        if fault is not None:
            reset = int(time.time()) + fault.reset_in_seconds
        headers = {
            "X-RateLimit-Limit": str(budget.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Used": str(budget.limit),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Resource": resource,
        }
        message = "API rate limit exceeded for user ID 1001."
        if graphql:
            status = (fault.status if fault else None) or 200
            body: dict[str, Any] = {"errors": [{"type": "RATE_LIMITED", "message": message}]}
            if status != 200:
                body = {"message": message, "documentation_url": RATE_LIMIT_DOCS}
            return ServerAnswer(status, body, headers)
        status = (fault.status if fault else None) or 403
        return ServerAnswer(
            status,
            {
                "message": message + " If you reach out to GitHub Support for help, please "
                "include the request ID FAKE.",
                "documentation_url": RATE_LIMIT_DOCS,
                "status": str(status),
            },
            headers,
        )

    # ----- control endpoint --------------------------------------------------------------

    def _serve_control(self, method: str, path: str, raw: bytes) -> ServerAnswer:
        """``/_control/...``: for out-of-process tests and benchmarks; not GitHub's API."""
        try:
            payload = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return ServerAnswer(400, {"message": "control bodies are JSON"})
        action = path.removeprefix("/_control/").strip("/")
        handlers: dict[tuple[str, str], Callable[[Any], Any]] = {
            ("GET", "counts"): lambda _: self.counts(),
            ("GET", "log"): lambda _: [entry.as_json() for entry in self.log.entries()],
            ("POST", "reset-log"): lambda _: self.reset_log(),
            ("GET", "violations"): lambda _: [str(v) for v in self.violations],
            ("POST", "clear-violations"): lambda _: [str(v) for v in self.take_violations()],
            ("POST", "faults"): lambda spec: _fault_summary(self.faults.add(Fault.from_json(spec))),
            ("DELETE", "faults"): lambda _: self.clear_faults(),
            ("GET", "faults"): lambda _: [_fault_summary(f) for f in self.faults.pending()],
            ("POST", "latency"): lambda spec: self.set_latency(float(spec["seconds"])),
            ("POST", "clock"): self._control_clock,
            ("POST", "rate-limit"): lambda spec: self.set_rate_limit(**spec),
        }
        handler = handlers.get((method, action))
        if handler is None:
            return ServerAnswer(404, {"message": f"no control action {method} {action}"})
        try:
            result = handler(payload)
        except (KeyError, TypeError, ValueError) as error:
            return ServerAnswer(400, {"message": str(error)})
        return ServerAnswer(200, {"ok": True, "result": result})

    def _control_clock(self, spec: dict[str, Any]) -> str:
        if "set" in spec:
            self.set_time(spec["set"], frozen=bool(spec.get("frozen", True)))
        if "advance" in spec:
            self.advance_time(float(spec["advance"]))
        if "seconds_per_write" in spec:
            self.clock.seconds_per_write = int(spec["seconds_per_write"])
        return self.clock.now().isoformat()


# Operations GitHub refuses without a token even though they are reads.
_TOKEN_ONLY = frozenset({"users/get-authenticated"})


def _fault_summary(fault: Fault) -> dict[str, Any]:
    return {"kind": fault.kind, "times": fault.times, "fired": fault.fired}


def _basic_error(message: str, status: int) -> dict[str, str]:
    return {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": str(status),
    }


def _server_error_body(status: int) -> dict[str, str]:
    messages = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}
    return {"message": messages.get(status, "Server Error")}


def _validation_failed(reasons: list[str]) -> dict[str, Any]:
    return {
        "message": "Invalid request.\n\n" + "\n".join(reasons),
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
    }


def _rate_headers(budget: RateBudget, resource: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(budget.limit),
        "X-RateLimit-Remaining": str(budget.remaining),
        "X-RateLimit-Used": str(budget.used),
        "X-RateLimit-Reset": str(budget.reset_epoch),
        "X-RateLimit-Resource": resource,
    }


def _etag(body: Any, identity: str) -> str:
    # GitHub's ETags vary with the representation and with who asked.
    digest = hashlib.sha256((identity + json.dumps(body, sort_keys=True)).encode()).hexdigest()
    return f'W/"{digest[:40]}"'


def _etag_matches(headers: dict[str, str], etag: str) -> bool:
    lowered = {name.lower(): value for name, value in headers.items()}
    wanted = lowered.get("if-none-match")
    if not wanted:
        return False
    candidates = {value.strip() for value in wanted.split(",")}
    bare = etag.removeprefix("W/")
    return etag in candidates or bare in candidates or "*" in candidates


@contextlib.contextmanager
def start_server(**options: Any) -> Iterator[FakeGitHub]:
    """Run a :class:`FakeGitHub` on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeGitHub(**options).start()
    try:
        yield fake
    finally:
        fake.stop()
