"""Pydantic models of the TOML configuration.

These models are the contract for people and for tools that generate configuration: they
forbid unknown keys, and the JSON Schema in ``schemas/config.schema.json`` is generated from
them. Each field says what it means; the loader adds file and line to every error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.tree import normalize_relative_path

KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
REPO_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSettings(StrictModel):
    """Where planner keeps its own files and where declared files live."""

    state_dir: str = Field(
        ".planner",
        description="Folder for state, checkpoints and the lock, relative to the config's folder.",
        examples=[".planner"],
    )
    root: str = Field(
        ".",
        description="Base folder of [[file]] paths and the audit log, relative to the "
        "config's folder.",
        examples=["."],
    )


class GitHubSettings(StrictModel):
    """How to reach GitHub; needed only when issues or labels are declared."""

    repo: str | None = Field(
        None,
        pattern=REPO_PATTERN,
        description="Default repository (owner/name) of [[issue]] and [[label]].",
        examples=["octo-org/octo-repo"],
    )
    api: Literal["graphql", "rest"] = Field(
        "graphql",
        description="graphql reads and writes in batches; rest reads through the REST API "
        "(for example without a token).",
    )
    max_wait: int = Field(
        600,
        ge=0,
        description="Seconds planner may wait for a rate limit before stopping resumably.",
        examples=[600],
    )
    api_url: str | None = Field(
        None,
        description="REST API address; default $GITHUB_API_URL, else https://api.github.com.",
        examples=["https://github.example.com/api/v3"],
    )


class LabelSpec(StrictModel):
    """A repository label."""

    name: str = Field(min_length=1, max_length=50, description="Label name.", examples=["release"])
    color: str = Field(
        "ededed",
        pattern=r"^[0-9a-fA-F]{6}$",
        description="Six hex digits without '#'; managed only when given (a new label "
        "without it gets ededed).",
        examples=["0e8a16"],
    )
    description: str | None = Field(None, max_length=100, description="Short description.")
    repo: str | None = Field(
        None, pattern=REPO_PATTERN, description="Repository; default [github].repo."
    )


class IssueSpec(StrictModel):
    """A GitHub issue; fields left out are not managed."""

    key: str = Field(
        pattern=KEY_PATTERN,
        description="Identity of the issue in this configuration.",
        examples=["release-checklist"],
    )
    repo: str | None = Field(
        None, pattern=REPO_PATTERN, description="Repository; default [github].repo."
    )
    number: int | None = Field(None, ge=1, description="Manage this existing issue.", examples=[42])
    title: str | None = Field(None, min_length=1, max_length=256, description="Issue title.")
    body: str | None = Field(None, description="Issue body (Markdown).")
    body_file: str | None = Field(
        None, description="File holding the body, relative to the config's folder."
    )
    state: Literal["open", "closed"] | None = Field(None, description="open or closed.")
    state_reason: Literal["completed", "not_planned"] | None = Field(
        None, description="Why it was closed; only with state = 'closed'."
    )
    labels: list[str] | None = Field(None, description="The exact set of label names.")
    assignees: list[str] | None = Field(None, description="The exact set of user logins.")
    milestone: str | None = Field(
        None, description="Milestone title; an empty string for none; left out: not managed."
    )

    @model_validator(mode="after")
    def _check_combinations(self) -> IssueSpec:
        if self.body is not None and self.body_file is not None:
            raise ValueError("give either body or body_file, not both")
        if self.state_reason is not None and self.state != "closed":
            raise ValueError("state_reason needs state = 'closed'")
        if self.number is None and self.title is None:
            raise ValueError("an issue to create needs a title (or give number to adopt one)")
        return self


class FileSpec(StrictModel):
    """A file below the root, with its content given inline or by another tool's output."""

    path: str = Field(
        description="Path relative to the root; may not leave it.", examples=["docs/file1.md"]
    )
    content: str | None = Field(None, description="The file's exact text.", examples=["hello\n"])
    source: str | None = Field(
        None,
        description="A file whose bytes become the content, relative to the config's folder.",
        examples=["build/report.md"],
    )
    mode: str | None = Field(
        None,
        pattern=r"^0?[0-7]{3}$",
        description="Permission bits in octal; left out: kept (new files get 0644).",
        examples=["0644"],
    )
    ensure: Literal["present", "absent"] = Field(
        "present", description="present writes the file; absent removes it."
    )
    sensitive: bool = Field(False, description="Never show the content in plans, logs or output.")

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return normalize_relative_path(value)

    @model_validator(mode="after")
    def _check_content(self) -> FileSpec:
        if self.ensure == "absent":
            if self.content is not None or self.source is not None:
                raise ValueError("a file with ensure = 'absent' takes no content or source")
            return self
        if (self.content is None) == (self.source is None):
            raise ValueError("give exactly one of content or source")
        return self

    @property
    def mode_bits(self) -> int | None:
        return int(self.mode, 8) if self.mode is not None else None


class AuditEntrySpec(StrictModel):
    """One audit-log entry, written once and never changed."""

    id: str = Field(
        pattern=KEY_PATTERN,
        description="Identity; an entry already in the log is not written again.",
        examples=["workflow-step1"],
    )
    category: str = Field(min_length=1, examples=["WORKFLOW"])
    action: str = Field(min_length=1, examples=["step1"])
    context: str = ""
    ref: str = ""
    message: str = ""


class AuditSettings(StrictModel):
    """The append-only audit log and the entries it must hold."""

    path: str = Field(description="Log file relative to the root.", examples=["audit/current.log"])
    record_changes: bool = Field(False, description="Also log one entry per change an apply made.")
    entry: list[AuditEntrySpec] = Field(default_factory=list, description="Declared entries.")

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return normalize_relative_path(value)


class Config(StrictModel):
    """The whole configuration, after merging every file of a configuration folder."""

    project: ProjectSettings = Field(default_factory=ProjectSettings)
    github: GitHubSettings | None = None
    label: list[LabelSpec] = Field(default_factory=list)
    issue: list[IssueSpec] = Field(default_factory=list)
    file: list[FileSpec] = Field(default_factory=list)
    audit: AuditSettings | None = None
