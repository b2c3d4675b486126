"""Views of a plan: text for terminals, JSON for tools, Markdown for pull requests.

Renderers read a frozen ``Plan`` and return text; they never print and never see a
sensitive value, because a plan never holds one.
"""

from planner.render.json import render_json
from planner.render.markdown import render_markdown
from planner.render.text import render_text, summary_line

__all__ = ["render_json", "render_markdown", "render_text", "summary_line"]
