"""The pages' languages: pick one from ``Accept-Language``, and its strings.

The strings come from translations/<lang>.yaml (section ``pages``), generated into
static/i18n/<lang>.json by script/gen_translations.py. English is the fallback.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

DEFAULT = "en"


@cache
def languages() -> frozenset[str]:
    """The languages the pages are translated into."""
    folder = resources.files("camauth").joinpath("static", "i18n")
    return frozenset(item.name.removesuffix(".json") for item in folder.iterdir())


@cache
def strings(lang: str) -> dict[str, Any]:
    """Every string of one language (English for an unknown one)."""
    name = lang if lang in languages() else DEFAULT
    text = resources.files("camauth").joinpath("static", "i18n", f"{name}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _weight(part: str) -> float:
    for parameter in part.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def pick_language(header: str | None) -> str:
    """The best available language for an ``Accept-Language`` header (RFC 9110 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")[:32]):
        tag = part.split(";", 1)[0].strip().lower()
        weight = _weight(part)
        base = tag.split("-", 1)[0]
        if weight > 0 and base in languages():
            ranked.append((-weight, index, base))
    return min(ranked)[2] if ranked else DEFAULT


def text(lang: str, key: str) -> str:
    """One string by its dotted key (``login.title``), or the key itself if missing."""
    node: Any = strings(lang)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, str) else key
