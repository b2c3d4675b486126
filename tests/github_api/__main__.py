"""Run the fake GitHub by hand, e.g. for benchmarks against a slow API::

    python -m tests.github_api --port 8765 --latency 0.1 --seed-issues 200

It prints the URL and token, serves until interrupted, and accepts control requests under
``/_control/`` (counts, log, reset-log, faults, latency, clock, rate-limit).
"""

from __future__ import annotations

import argparse
import logging
import threading

from .server import DEFAULT_TOKEN, FakeGitHub


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.github_api", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--repository", default="octo-org/planner-bench")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--seed-issues", type=int, default=0)
    parser.add_argument("--log-level", default="WARNING")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=arguments.log_level.upper(), format="%(levelname)s %(message)s")

    server = FakeGitHub(token=arguments.token, latency=arguments.latency, port=arguments.port)
    server.create_repository(arguments.repository, private=arguments.private)
    if arguments.seed_issues:
        server.seed_issues(arguments.repository, arguments.seed_issues)
    server.start()

    # The banner is the program's output, so print rather than log it.
    print(f"fake GitHub: {server.url}", flush=True)
    print(f"GraphQL:     {server.graphql_url}", flush=True)
    print(f"token:       {server.token}", flush=True)
    print(f"repository:  {arguments.repository} ({arguments.seed_issues} issues)", flush=True)
    print(f"control:     {server.url}/_control/counts", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
