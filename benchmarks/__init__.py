"""Side-by-side benchmarks of this package against the alternatives, on the local emulator.

Run from the repository root: ``python -m benchmarks`` (or ``python benchmarks/run.py``);
``--quick`` for a smoke run. Results go to ``benchmarks/results/``; see ``BENCHMARKS.md``.
"""
