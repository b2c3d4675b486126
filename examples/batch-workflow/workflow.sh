#!/usr/bin/env bash
# The shell workflow planner replaces, kept for comparison; planner never runs it.
# Each step costs one open/append/close, one write, or one API call, with no way to preview,
# resume or undo, and a rerun duplicates the audit lines.
set -euo pipefail

log() { echo "$(date -u +%FT%TZ)|$1|$2|$3|$4|$5" >> audit/current.log; }

# One audit append per step.
log WORKFLOW step1 release-1.4 "$GITHUB_SHA" "Step 1 complete"
log WORKFLOW step2 release-1.4 "$GITHUB_SHA" "Step 2 complete"

# One write per file.
mkdir -p docs
cp build/release-notes.md docs/release-notes.md
printf 'version = "1.4.0"\n' > docs/version.toml

# One API call per issue.
for number in 101 102 103; do
  gh issue close "$number" --repo octo-org/octo-repo --reason completed
done
gh issue create --repo octo-org/octo-repo --title "Release 1.4 checklist" --label release
