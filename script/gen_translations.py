#!/usr/bin/env python3
"""Write the translation files the Supervisor (and later Home Assistant) read, from translations/.

python script/gen_translations.py           # write them
python script/gen_translations.py --check   # exit 1 when a written file is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "translations"
HEADER = "# Generated from translations/{name} by script/gen_translations.py: do not edit.\n"


def outputs() -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    for source in sorted(SOURCE.glob("*.yaml")):
        strings = yaml.safe_load(source.read_text(encoding="utf-8"))
        addon = yaml.safe_dump(strings["addon"], sort_keys=False, allow_unicode=True, width=100)
        files[ROOT / "camauth_addon" / "translations" / source.name] = (
            HEADER.format(name=source.name) + addon
        )
        # An "integration" section will generate custom_components/camauth/strings.json
        # and translations/<lang>.json here, once the integration exists.
    return files


def stale() -> list[Path]:
    """Generated files whose content differs from what the source gives."""
    return [
        path
        for path, text in outputs().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main() -> int:
    """Write, or check, the generated files."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args()
    if args.check:
        old = stale()
        for path in old:
            print(f"stale: {path.relative_to(ROOT)} (run script/gen_translations.py)")
        return 1 if old else 0
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
