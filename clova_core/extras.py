"""Optional dependencies: a missing one is reported with the extra that installs it.

``clova-integrations`` keeps each framework behind an extra (``[langchain]``,
``[llamaindex]``, ``[demo]``), so a LangChain user never installs LlamaIndex and the other
way round. Code that needs an optional package calls :func:`require` first, so a missing
one raises :class:`MissingExtraError` saying what to install instead of a bare
"No module named 'llama_index'".
"""

from __future__ import annotations

import importlib.util

from clova_core.errors import ClovaError

DISTRIBUTION = "clova-integrations"


class MissingExtraError(ClovaError, ModuleNotFoundError):
    """An optional dependency is not installed; the message names the extra to install.

    A :class:`ModuleNotFoundError` (so ``except ImportError`` and ``pytest.importorskip``
    keep working) and a :class:`~clova_core.ClovaError`.
    """


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it (for a dotted name,
    only its parent packages are imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package of the dotted name is missing
        return False


def require(module: str, *, package: str, extra: str, needed_for: str) -> None:
    """Raise :class:`MissingExtraError` unless ``module`` (from the distribution
    ``package``) is installed; the message names ``pip install "clova-integrations[extra]"``.
    """
    if not is_installed(module):
        raise MissingExtraError(
            f"{needed_for} needs {package}, which is not installed. "
            f'Install it with: pip install "{DISTRIBUTION}[{extra}]"',
            name=module,
        )
