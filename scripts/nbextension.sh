#!/usr/bin/env bash
# Installs plotly.js as the "moelab" nbextension: <repo>/nbextensions/moelab/plotly.min.js, which classic Notebook
# serves at <base url>nbextensions/moelab/plotly.min.js while the repository is on JUPYTER_PATH (npm run lab sets it).
# Live figures (lib/viz/html.ts) load plotly.js from there instead of inlining 4 MB into every notebook.
# Run by scripts/setup.sh and scripts/lab.sh; idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$ROOT/node_modules/plotly.js-dist-min/plotly.min.js"
dest="$ROOT/nbextensions/moelab"
if [ ! -f "$src" ]; then
  echo "nbextension: $src is missing: install the npm dependencies first (npm run setup)" >&2
  exit 1
fi
mkdir -p "$dest"
cmp -s "$src" "$dest/plotly.min.js" || cp "$src" "$dest/plotly.min.js"
