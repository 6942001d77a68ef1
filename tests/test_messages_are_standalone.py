"""User-visible text stands on its own: no string in the shipped packages cites the project's
internal notes (clova-api.md, design.md, anchors.md), which ship in neither the wheel nor the
repository. Every string literal counts (error messages, hints, warnings, CLI output, and
module, class and function docstrings, which ``help()`` shows); comments may cite them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGES = ("clova_core", "clova_emulator", "langchain_clova", "llama_index_clova", "clova_demo")
INTERNAL_FILES = ("clova-api.md", "design.md", "anchors.md")


REPO = Path(__file__).resolve().parent.parent


def offenders(root: Path) -> list[str]:
    """``path:line: name`` for every string literal under ``root`` citing an internal file."""
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                lowered = node.value.lower()
                found.extend(
                    f"{path.relative_to(root.parent)}:{node.lineno}: {name}"
                    for name in INTERNAL_FILES
                    if name in lowered
                )
    return found


def test_the_scan_finds_citations_in_strings_and_docstrings_but_not_comments(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        '"""Module doc, see clova-api.md 3.6."""\n'
        "# a comment may cite design.md\n"
        "def f(x: int) -> str:\n"
        '    """Function doc."""\n'
        '    return f"value {x} (anchors.md)"\n',
        encoding="utf-8",
    )
    assert offenders(package) == ["pkg/mod.py:1: clova-api.md", "pkg/mod.py:5: anchors.md"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_user_visible_string_cites_internal_files(package: str) -> None:
    found = offenders(REPO / package)
    assert (REPO / package / "__init__.py").is_file()
    assert not found, (
        "User-visible strings cite internal files; say what to change instead, or link the "
        "public CLOVA Studio docs (https://api.ncloud-docs.com/docs/clovastudio-...):\n"
        + "\n".join(found)
    )
