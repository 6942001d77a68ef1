"""``python -m benchmarks``: run every suite and write the report."""

from benchmarks.run import main

if __name__ == "__main__":
    raise SystemExit(main())
