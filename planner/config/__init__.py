"""The declared configuration: models, and loading with file-and-line errors."""

from planner.config.loader import LoadedConfig, load_config
from planner.config.models import (
    AuditEntrySpec,
    AuditSettings,
    Config,
    FileSpec,
    GitHubSettings,
    IssueSpec,
    LabelSpec,
    ProjectSettings,
)

__all__ = [
    "AuditEntrySpec",
    "AuditSettings",
    "Config",
    "FileSpec",
    "GitHubSettings",
    "IssueSpec",
    "LabelSpec",
    "LoadedConfig",
    "ProjectSettings",
    "load_config",
]
