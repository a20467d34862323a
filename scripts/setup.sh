#!/usr/bin/env bash
# MoE Lab setup for Debian 12 (run as root, or as a user with sudo). Idempotent: run it again any time.
#  1. Debian's Jupyter pieces (Notebook, nbconvert, the kernel conformance suite), chromium (figure PNGs, report test),
#     the C++ toolchain for the native addon, and OpenBLAS + PyTorch for the benchmark's reference columns
#  2. npm dependencies, the library build and the native addon (node-gyp) via the package's install scripts
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

debian_packages=(
  jupyter-notebook            # classic Notebook 6.4: `npm run lab`
  jupyter-nbconvert           # `jupyter nbconvert --execute` (tests run every notebook through it)
  jupyter-client              # kernelspec discovery, `jupyter kernelspec`
  python3-jupyter-kernel-test # the kernel conformance suite (test/jupyter)
  python3-ipykernel           # the python3 kernel the runner's client tests use as a second, independent peer
  chromium                    # PNG rendering of figures, report screenshot test
  fonts-dejavu-core           # a font for chromium's text in figures
  g++                         # the native addon (node-gyp builds native/ during npm install)
  make                        # node-gyp's build driver
  gcc                         # `npm run bench` compiles its OpenBLAS helper (native/bench/gemm_openblas.c)
  libopenblas-dev             # cblas_sgemm for the benchmark's OpenBLAS column
  python3-torch               # PyTorch CPU for the benchmark's PyTorch column (scripts/bench_torch.py)
  dataset-fashion-mnist       # Fashion-MNIST train split (MIT) for the quantization notebook; the test split ships in datasets/
)

missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

# npm ci on a fresh clone (exactly the lockfile); npm install keeps an existing tree in step. Either runs the
# package's own install scripts: the node_modules/moelab self-link and the TypeScript build.
if [ -d node_modules ]; then
  npm install --no-audit --no-fund
else
  npm ci --no-audit --no-fund
fi
echo "setup: done ($(node -e 'require("./dist/lib/index.js").init().then(b => console.log(b))'))"
