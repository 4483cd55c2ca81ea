"""The configuration snippets of the add-on's DOCS.md, for tests that run what the docs show."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import yaml

DOCS = Path(__file__).resolve().parents[1] / "camauth_addon" / "DOCS.md"
_HEADING = re.compile(r"^(#+) ", re.MULTILINE)
# A fenced YAML block, possibly indented (inside a list item): its indent and its text.
_YAML_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)


def section(heading: str) -> str:
    """The text under a heading of DOCS.md, up to the next heading of its level or above."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.MULTILINE)
    if found is None:
        raise LookupError(f"DOCS.md has no heading {heading!r}")
    level = len(found.group(1))
    rest = text[found.end() :]
    for following in _HEADING.finditer(rest):
        if len(following.group(1)) <= level:
            return rest[: following.start()]
    return rest


def yaml_snippets(heading: str) -> list[Any]:
    """Every YAML block under a heading of DOCS.md, parsed, in the order they appear."""
    blocks = _YAML_BLOCK.findall(section(heading))
    return [yaml.safe_load(textwrap.dedent(body)) for _, body in blocks]
