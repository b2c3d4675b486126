"""Shared pytest set-up: the local GitHub API server fixture is available to every test."""

pytest_plugins = ["tests.github_api.fixture"]
