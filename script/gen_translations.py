#!/usr/bin/env python3
"""Write the translation files the Supervisor (and later Home Assistant) read, from translations/.

translations/<lang>.yaml is the single source of user-facing strings. Each top-level section
of it has one writer, which turns it into the files that consumer reads:

    addon:        ->  camauth_addon/translations/<lang>.yaml   (the Supervisor's format)
    integration:  ->  custom_components/camauth/translations/<lang>.json, and for English also
                      custom_components/camauth/strings.json (Home Assistant's formats)
    pages:        ->  camauth_addon/camauth/static/i18n/<lang>.json (the login, logout and
                      admin pages, and the words for every error code the API answers)

English (en.yaml) is the reference: every other language must have exactly its keys, section
by section, so that no language silently falls back to English or carries strings nothing uses.

python script/gen_translations.py           # write them (exit 1 if a language's keys differ)
python script/gen_translations.py --check   # exit 1 when a written file is stale or extra, or
                                            # a language's keys differ from English's
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
HEADER = "# Generated from translations/{name} by script/gen_translations.py: do not edit.\n"
REFERENCE = "en.yaml"

Writer = Callable[[Path, str, Any], dict[Path, str]]


def addon_files(root: Path, name: str, section: Any) -> dict[Path, str]:
    """The add-on's translation file: the section as it is, under a do-not-edit header."""
    if not isinstance(section, dict) or "configuration" not in section:
        raise ValueError(f"translations/{name}: 'addon' needs a 'configuration' mapping")
    text = yaml.safe_dump(section, sort_keys=False, allow_unicode=True, width=100)
    return {root / "camauth_addon" / "translations" / name: HEADER.format(name=name) + text}


def integration_files(root: Path, name: str, section: Any) -> dict[Path, str]:
    """The integration's translation (and for English its strings.json): the section as JSON.

    JSON has no comments, so these carry no header; Home Assistant reads
    translations/<lang>.json of a custom integration, and its tooling reads strings.json.
    """
    if not isinstance(section, dict) or "config" not in section:
        raise ValueError(f"translations/{name}: 'integration' needs a 'config' mapping")
    text = json.dumps(section, indent=2, ensure_ascii=False) + "\n"
    lang = Path(name).stem
    folder = root / "custom_components" / "camauth"
    files = {folder / "translations" / f"{lang}.json": text}
    if lang == "en":
        files[folder / "strings.json"] = text
    return files


# One writer per top-level section; a section without one is refused, not silently dropped.
def pages_files(root: Path, name: str, section: Any) -> dict[Path, str]:
    """The pages' strings: the section as JSON, which the service ships and renders."""
    if not isinstance(section, dict) or "errors" not in section:
        raise ValueError(f"translations/{name}: 'pages' needs an 'errors' mapping")
    text = json.dumps(section, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    folder = root / "camauth_addon" / "camauth" / "static" / "i18n"
    return {folder / f"{Path(name).stem}.json": text}


WRITERS: dict[str, Writer] = {
    "addon": addon_files,
    "integration": integration_files,
    "pages": pages_files,
}

# Directories that hold nothing but generated files: anything there without a source is stale.
GENERATED_DIRS = (
    "camauth_addon/translations",
    "custom_components/camauth/translations",
    "camauth_addon/camauth/static/i18n",
)


def sources(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Each translations/<lang>.yaml by file name, as read."""
    found: dict[str, dict[str, Any]] = {}
    for source in sorted((root / "translations").glob("*.yaml")):
        strings = yaml.safe_load(source.read_text(encoding="utf-8"))
        if not isinstance(strings, dict) or "addon" not in strings:
            raise ValueError(f"translations/{source.name}: no 'addon' section")
        found[source.name] = strings
    return found


def outputs(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    for name, strings in sources(root).items():
        for section, content in strings.items():
            writer = WRITERS.get(section)
            if writer is None:
                raise ValueError(f"translations/{name}: no writer for '{section}'")
            files.update(writer(root, name, content))
    return files


def key_paths(tree: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The path of every key in nested mappings, groups and their members alike."""
    paths: set[tuple[str, ...]] = set()
    if isinstance(tree, dict):
        for key, value in tree.items():
            path = (*prefix, str(key))
            paths.add(path)
            paths |= key_paths(value, path)
    return paths


def _topmost(paths: set[tuple[str, ...]]) -> list[str]:
    """The paths none of whose parents is in the set, dotted: a missing group, not its keys."""
    return [
        ".".join(path)
        for path in sorted(paths)
        if not any(path[:end] in paths for end in range(1, len(path)))
    ]


def key_differences(root: Path = ROOT) -> list[str]:
    """Keys a language lacks that English has, or has that English lacks, section by section."""
    strings = sources(root)
    if REFERENCE not in strings:
        raise ValueError(f"translations/{REFERENCE} is missing: it is the reference")
    reference = strings[REFERENCE]
    problems = []
    for name, language in strings.items():
        if name == REFERENCE:
            continue
        for section in [*reference, *(key for key in language if key not in reference)]:
            if section not in language:
                problems.append(f"translations/{name}: no '{section}' section, {REFERENCE} has one")
                continue
            if section not in reference:
                problems.append(f"translations/{name}: '{section}' is not a section of {REFERENCE}")
                continue
            ours, theirs = key_paths(reference[section]), key_paths(language[section])
            for path in _topmost(ours - theirs):
                problems.append(f"translations/{name}: {section}: missing {path}")
            for path in _topmost(theirs - ours):
                problems.append(f"translations/{name}: {section}: {path} is not in {REFERENCE}")
    return problems


def stale(root: Path = ROOT) -> list[Path]:
    """Generated files that differ from what the sources give, are missing, or have no source."""
    expected = outputs(root)
    wrong = [
        path
        for path, text in expected.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    extra = [
        path
        for folder in GENERATED_DIRS
        for path in sorted((root / folder).glob("*"))
        if path not in expected
    ]
    return wrong + extra


def write(root: Path = ROOT) -> None:
    """Write every generated file and remove the ones whose source is gone."""
    expected = outputs(root)
    for folder in GENERATED_DIRS:
        for path in (root / folder).glob("*"):
            if path not in expected and path.is_file():
                path.unlink()
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    """Write, or check, the generated files."""
    parser = argparse.ArgumentParser(description="Write the translation files from translations/.")
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    differences = key_differences(root)
    for problem in differences:
        print(problem)
    if args.check:
        old = stale(root)
        for path in old:
            print(f"stale: {path.relative_to(root)} (run script/gen_translations.py)")
        return 1 if old or differences else 0
    write(root)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
