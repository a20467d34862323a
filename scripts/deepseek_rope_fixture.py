"""Writes test/model/fixtures/deepseek-rope.json: DeepSeek-V3's own `precompute_freqs_cis` (YaRN) and
`apply_rotary_emb` (interleaved pairs), run with torch on small and V3-sized settings, as the oracle for
test/model/rope.test.ts. The two functions are taken verbatim at run time from DeepSeek-V3 inference/model.py
(github.com/deepseek-ai/DeepSeek-V3), whose path is the first argument; nothing of them is copied here.

Usage: /usr/bin/python3 scripts/deepseek_rope_fixture.py path/to/DeepSeek-V3/inference/model.py [commit]
The shipped fixture was made from commit 9b4e9788e4a3a731f7567338ed15d3ec549ce03b.
"""
import ast
import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import torch

source = Path(sys.argv[1]).read_text()
namespace = {"torch": torch, "math": math, "ModelArgs": SimpleNamespace}
for node in ast.parse(source).body:
    if isinstance(node, ast.FunctionDef) and node.name in ("precompute_freqs_cis", "apply_rotary_emb"):
        exec(ast.get_source_segment(source, node), namespace)

CASES = [
    # name, qk_rope_head_dim, rope_theta, rope_factor, original_seq_len, beta_fast, beta_slow, max_seq_len, positions
    ("v3-yarn", 64, 10000.0, 40, 4096, 32, 1, 16384, [0, 1, 7, 4095, 4096, 16383]),
    ("v3-no-yarn", 64, 10000.0, 40, 4096, 32, 1, 4096, [0, 1, 7, 4095]),
    ("tiny-yarn", 8, 100.0, 4, 8, 4, 1, 32, [0, 1, 2, 9, 31]),
]

commit = sys.argv[2] if len(sys.argv) > 2 else "unknown commit"
out = {"source": f"DeepSeek-V3 inference/model.py ({commit}) precompute_freqs_cis / apply_rotary_emb, torch {torch.__version__}", "cases": []}
for name, dim, theta, factor, orig, bf, bs, seqlen, positions in CASES:
    args = SimpleNamespace(qk_rope_head_dim=dim, max_seq_len=seqlen, beta_fast=bf, beta_slow=bs, rope_theta=theta, rope_factor=factor, original_seq_len=orig)
    freqs_cis = namespace["precompute_freqs_cis"](args)  # [seqlen, dim/2] complex64
    picked = freqs_cis[positions]
    out["cases"].append({
        "name": name, "dim": dim, "theta": theta, "factor": factor, "originalSeqLen": orig, "betaFast": bf, "betaSlow": bs,
        "maxSeqLen": seqlen, "positions": positions,
        "frequencies": freqs_cis[1].angle().tolist(),  # position 1's angles = the per-pair frequencies (all < π)
        "cos": picked.real.tolist(), "sin": picked.imag.tolist(),
    })

# apply_rotary_emb on x [1, T, 2 heads, 8] (DeepSeek's layout [B, T, H, d]) with the tiny case's first T positions.
torch.manual_seed(0)
T = 5
x = torch.randn(1, T, 2, 8)
args = SimpleNamespace(qk_rope_head_dim=8, max_seq_len=32, beta_fast=4, beta_slow=1, rope_theta=100.0, rope_factor=4, original_seq_len=8)
y = namespace["apply_rotary_emb"](x, namespace["precompute_freqs_cis"](args)[:T])
out["rotary"] = {"case": "tiny-yarn", "shape": list(x.shape), "x": x.flatten().tolist(), "y": y.flatten().tolist()}

target = Path(__file__).resolve().parent.parent / "test" / "model" / "fixtures" / "deepseek-rope.json"
target.write_text(json.dumps(out) + "\n")
print(f"wrote {target} ({target.stat().st_size} bytes)")
