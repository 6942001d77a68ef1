"""Print a pip constraints file that pins every direct dependency to its declared minimum.

Reads the ``>=`` lower bound of each requirement in pyproject.toml's ``dependencies`` and
optional extras (not ``dev``: test tools are not what users install) and prints
``name==bound`` with the requirement's environment marker, so ``pip install -c`` proves the
declared minimums work together. A dependency without a lower bound is an error: its
minimum would be whatever the resolver picks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")
LOWER_BOUND = re.compile(r">=\s*([^,\s]+)")
SKIPPED_EXTRAS = {"dev"}


def constraints(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra, items in project.get("optional-dependencies", {}).items():
        if extra not in SKIPPED_EXTRAS:
            requirements.extend(items)
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot read requirement {requirement!r}")
        name, _extras, specifier, marker = match.groups()
        if name.lower().replace("_", "-") == project["name"]:
            continue  # an extra that names other extras
        bound = LOWER_BOUND.search(specifier)
        if bound is None:
            raise SystemExit(f"{requirement!r} declares no minimum version (>=)")
        pins[name] = f"{name}=={bound.group(1)}{marker or ''}"
    return sorted(pins.values(), key=str.lower)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "pyproject.toml"
    print("\n".join(constraints(path)))
