#!/usr/bin/env bash
# `npm run lab [-- <jupyter notebook options>]`: Jupyter Notebook on notebooks/ (or $MOELAB_NOTEBOOKS, e.g. a class's
# released exercises) with both MoE Lab kernels, found through JUPYTER_PATH (kernels/moelab: tslab; kernels/moelab-deno:
# Deno's own kernel; nbextensions/moelab; no global install). Builds first when dist/ is missing. Options go to Jupyter
# (e.g. --notebook-dir=DIR, --no-browser, --port=N).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JUPYTER="${JUPYTER:-/usr/bin/jupyter}"
if [ ! -x "$JUPYTER" ]; then
  echo "lab: jupyter not found at $JUPYTER: install Debian's Jupyter (npm run setup) or set JUPYTER=/path/to/jupyter" >&2
  exit 1
fi
if [ ! -f "$ROOT/dist/lib/jupyter/main.js" ] || [ ! -f "$ROOT/dist/lib/index.js" ]; then
  (cd "$ROOT" && npm run build)
fi
bash "$ROOT/scripts/nbextension.sh" # plotly.js for live figures, served from nbextensions/ (found through JUPYTER_PATH)
export JUPYTER_PATH="$ROOT${JUPYTER_PATH:+:$JUPYTER_PATH}" # kernels/moelab (tslab) and kernels/moelab-deno
# Interactive displays (HTML): the tslab kernel tells by itself, Deno's kernel cannot, so say it for both.
export MOELAB_DISPLAY=live
ROOT_OPTION=()
if [ "$(id -u)" = 0 ]; then ROOT_OPTION=(--allow-root); fi # Notebook refuses root otherwise (containers, CI)
DIR_OPTION=(--notebook-dir="${MOELAB_NOTEBOOKS:-$ROOT/notebooks}")
for arg in "$@"; do
  case "$arg" in --notebook-dir*|--NotebookApp.notebook_dir*) DIR_OPTION=() ;; esac # the caller's folder instead
done
exec "$JUPYTER" notebook "${DIR_OPTION[@]}" "${ROOT_OPTION[@]}" "$@"
