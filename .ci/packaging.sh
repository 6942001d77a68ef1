#!/usr/bin/env bash
# Packaging checks on the built artefacts, not the editable install (design.md 4): build the
# sdist and the wheel (the wheel from the sdist, so a file missing from the sdist fails here),
# install the wheel with [langchain] only and with [llamaindex] only, each in a fresh venv,
# and run the smoke test there; then install every direct dependency at its declared minimum
# (.ci/min_constraints.py) on the oldest supported Python and run the smoke test and the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== packaging: %s (%ss)\n' "$1" "$SECONDS"; }

step "build sdist and wheel"
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet build
"$work/build/bin/python" -m build --outdir "$work/dist" "$repo"
wheel=$(ls "$work"/dist/*.whl)
python3 - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "wheel ships no LICENSE"
PY

fresh_venv() {  # fresh_venv NAME PYTHON
    "$2" -m venv "$work/$1"
    "$work/$1/bin/python" -m pip install --quiet --upgrade pip
}

smoke() {  # smoke VENV FRAMEWORK; from outside the tree, so the wheel is what is imported
    (cd "$work" && env -u CLOVASTUDIO_API_KEY "$work/$1/bin/python" \
        "$repo/tests/packaging/smoke.py" "$2")
}

for extra in langchain llamaindex; do
    step "wheel with [$extra] only"
    fresh_venv "$extra" python3
    "$work/$extra/bin/pip" install --quiet "$wheel[$extra]"
    smoke "$extra" "$extra"
done

step "declared minimum versions"
min_python=python3
for candidate in python3.10 "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.10*/bin/python3.10; do
    if "$candidate" -c "import sys; assert sys.version_info[:2] == (3, 10)" 2>/dev/null; then
        min_python=$candidate
        break
    fi
done
python3 .ci/min_constraints.py > "$work/min-constraints.txt"
cat "$work/min-constraints.txt"
fresh_venv minimum "$min_python"
"$work/minimum/bin/pip" install --quiet "$wheel[all,demo,aiohttp,redis]" -c "$work/min-constraints.txt"
# Prove the pins held: every constrained package is installed at exactly its floor.
"$work/minimum/bin/python" - "$work/min-constraints.txt" <<'PY'
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
for line in open(sys.argv[1]).read().splitlines():
    requirement = Requirement(line)
    if requirement.marker is None or requirement.marker.evaluate():
        installed = version(requirement.name)
        assert requirement.specifier.contains(installed), (requirement, installed)
print("minimum versions installed as pinned")
PY
smoke minimum all
(cd "$work" && env -u CLOVASTUDIO_API_KEY "$work/minimum/bin/clova-demo" --token-delay 0 >/dev/null)
echo "clova-demo passed at the minimum versions"
step "done"
