"""Deprecated: ``python -m clova_core.emulator`` runs ``python -m clova_emulator``."""

from __future__ import annotations

from clova_emulator.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
