#!/usr/bin/env bash
# `npm run lab [-- <jupyter notebook options>]`: Jupyter Notebook on notebooks/ (or $MOELAB_NOTEBOOKS, e.g. a class's
# released exercises) with the MoE Lab kernel, found through JUPYTER_PATH (kernels/moelab/kernel.json; no install
# needed). Builds first when dist/ is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JUPYTER="${JUPYTER:-/usr/bin/jupyter}"
if [ ! -x "$JUPYTER" ]; then
  echo "lab: jupyter not found at $JUPYTER: install Debian's Jupyter (npm run setup) or set JUPYTER=/path/to/jupyter" >&2
  exit 1
fi
if [ ! -f "$ROOT/dist/lib/kernel/main.js" ] || [ ! -f "$ROOT/dist/lib/index.js" ]; then
  (cd "$ROOT" && npm run build)
fi
export JUPYTER_PATH="$ROOT${JUPYTER_PATH:+:$JUPYTER_PATH}"
ROOT_OPTION=()
if [ "$(id -u)" = 0 ]; then ROOT_OPTION=(--allow-root); fi # Notebook refuses root otherwise (containers, CI)
exec "$JUPYTER" notebook --notebook-dir="${MOELAB_NOTEBOOKS:-$ROOT/notebooks}" "${ROOT_OPTION[@]}" "$@"
