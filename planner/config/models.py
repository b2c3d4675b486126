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

    @field_validator("state_dir", "root")
    @classmethod
    def _check_folder(cls, value: str) -> str:
        if not value or "\x00" in value:
            raise ValueError("the folder is empty or holds a NUL character")
        return value


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
        examples=["graphql"],
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
    full_refresh_after: int = Field(
        86400,
        ge=0,
        description="Seconds (on GitHub's clock) after which a plan reads every managed issue "
        "again instead of only those GitHub reports as changed; 0 reads every issue every time.",
        examples=[86400],
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
    description: str | None = Field(
        None, max_length=100, description="Short description.", examples=["Release work"]
    )
    repo: str | None = Field(
        None,
        pattern=REPO_PATTERN,
        description="Repository; default [github].repo.",
        examples=["octo-org/octo-repo"],
    )


class IssueSpec(StrictModel):
    """A GitHub issue; fields left out are not managed."""

    key: str = Field(
        pattern=KEY_PATTERN,
        description="Identity of the issue in this configuration.",
        examples=["release-checklist"],
    )
    repo: str | None = Field(
        None,
        pattern=REPO_PATTERN,
        description="Repository; default [github].repo.",
        examples=["octo-org/other"],
    )
    number: int | None = Field(None, ge=1, description="Manage this existing issue.", examples=[42])
    title: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="Issue title.",
        examples=["Release checklist"],
    )
    body: str | None = Field(
        None, description="Issue body (Markdown).", examples=["- [ ] Notes published\n"]
    )
    body_file: str | None = Field(
        None,
        description="File holding the body, relative to the config's folder.",
        examples=["issues/release.md"],
    )
    state: Literal["open", "closed"] | None = Field(
        None, description="open or closed.", examples=["closed"]
    )
    state_reason: Literal["completed", "not_planned"] | None = Field(
        None, description="Why it was closed; only with state = 'closed'.", examples=["completed"]
    )
    labels: list[str] | None = Field(
        None, description="The exact set of label names; [] for none.", examples=[["release"]]
    )
    assignees: list[str] | None = Field(
        None, description="The exact set of user logins.", examples=[["octocat"]]
    )
    milestone: str | None = Field(
        None,
        description="Milestone title; an empty string for none; left out: not managed.",
        examples=["v1.0"],
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
        "present", description="present writes the file; absent removes it.", examples=["absent"]
    )
    sensitive: bool = Field(
        False, description="Never show the content in plans, logs or output.", examples=[True]
    )

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
    category: str = Field(
        min_length=1, description="Second field of the line.", examples=["WORKFLOW"]
    )
    action: str = Field(min_length=1, description="Third field of the line.", examples=["step1"])
    context: str = Field("", description="Fourth field of the line.", examples=["release-1.4"])
    ref: str = Field("", description="Fifth field, e.g. a commit.", examples=["3f2a9c1"])
    message: str = Field("", description="Last field of the line.", examples=["Step 1 complete"])


class AuditSettings(StrictModel):
    """The append-only audit log and the entries it must hold."""

    path: str = Field(description="Log file relative to the root.", examples=["audit/current.log"])
    record_changes: bool = Field(
        False, description="Also log one entry per change an apply made.", examples=[True]
    )
    entry: list[AuditEntrySpec] = Field(
        default_factory=list,
        description="Declared entries.",
        examples=[[{"id": "workflow-step1", "category": "WORKFLOW", "action": "step1"}]],
    )

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return normalize_relative_path(value)


class Config(StrictModel):
    """The whole configuration, after merging every file of a configuration folder."""

    project: ProjectSettings = Field(
        default_factory=ProjectSettings,
        description="Where planner keeps its files and where declared files live.",
        examples=[{"state_dir": ".planner", "root": "."}],
    )
    github: GitHubSettings | None = Field(
        None,
        description="How to reach GitHub; needed only for issues and labels.",
        examples=[{"repo": "octo-org/octo-repo"}],
    )
    label: list[LabelSpec] = Field(
        default_factory=list,
        description="Repository labels ([[label]]).",
        examples=[[{"name": "release", "color": "0e8a16"}]],
    )
    issue: list[IssueSpec] = Field(
        default_factory=list,
        description="GitHub issues ([[issue]]).",
        examples=[[{"key": "release-checklist", "title": "Release checklist"}]],
    )
    file: list[FileSpec] = Field(
        default_factory=list,
        description="Files below the root ([[file]]).",
        examples=[[{"path": "docs/hello.md", "content": "# Hello\n"}]],
    )
    audit: AuditSettings | None = Field(
        None,
        description="The append-only audit log and its entries.",
        examples=[{"path": "audit/current.log"}],
    )
