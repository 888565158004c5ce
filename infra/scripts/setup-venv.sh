#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv with everything the bot, the worker,
# the CLI and the tests need. Idempotent: re-running it after a pyproject.toml change reinstalls only that.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
TORCH_PINS=(torch==2.14.1)

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  # The CPU-only wheels are a fraction of the size of the default (CUDA) build. Prefer them and fall back to
  # the default index where the PyTorch index cannot be reached.
  echo "setup: installing ${TORCH_PINS[*]} (CPU build preferred)"
  if ! "${PIP[@]}" install --timeout 20 --retries 0 --index-url https://download.pytorch.org/whl/cpu \
      "${TORCH_PINS[@]}" 2>/dev/null; then
    echo "setup: PyTorch CPU index unavailable, using the default index"
    "${PIP[@]}" install "${TORCH_PINS[@]}" 2>&1 | grep -v 'is ignored' || true
    "$VENV/bin/python" -c 'import torch'
  fi
fi

stamp="$VENV/.stylebot-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing the project and its pinned dependencies"
  "${PIP[@]}" install -e '.[ml,dev]' 2>&1 | grep -v 'is ignored' || true
  "$VENV/bin/python" -c 'import handler, telegram, aws_lambda_powertools, moto, awslambdaric, samcli'
  touch "$stamp"
fi
