#!/usr/bin/python3
"""PyTorch CPU twin of the MoE layer benchmark (scripts/bench-moe.ts): the same layer, forward + backward, timed eagerly.

Reference: DeepSeek-V3 inference/model.py (Gate, Expert, MoE: one module per expert, a loop over experts with
torch.where and index_add_), and
a sort-by-expert variant (one argsort, contiguous per-expert matmuls, index_add_ back), the layout lib/moe dispatches
in.
Run with Debian's interpreter (python3-torch): /usr/bin/python3 scripts/bench_moe_torch.py '<json config>'
Config: {"tokens", "dim", "routed", "shared", "topk", "hidden", "threads", "warmup", "repeats", "seed"}.
Prints one JSON line: {"torch": VERSION, "threads": N, "variants": {"loop": {"samples_ms": [...]}, "sorted": {...}}}.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


class Expert(torch.nn.Module):
    """One SwiGLU expert w2(silu(w1 x) * w3 x), as DeepSeek-V3 model.py's Expert (separate parameters per expert)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = torch.nn.Linear(dim, hidden, bias=False)
        self.w2 = torch.nn.Linear(hidden, dim, bias=False)
        self.w3 = torch.nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class MoE(torch.nn.Module):
    def __init__(self, cfg, variant):
        super().__init__()
        d, h = cfg["dim"], cfg["hidden"]
        self.topk, self.routed, self.variant = cfg["topk"], cfg["routed"], variant
        self.gate = torch.nn.Parameter(torch.randn(self.routed, d) / d**0.5)
        self.experts = torch.nn.ModuleList([Expert(d, h) for _ in range(self.routed)])
        hs = cfg["shared"] * h
        self.s1 = torch.nn.Linear(d, hs, bias=False)
        self.s2 = torch.nn.Linear(hs, d, bias=False)
        self.s3 = torch.nn.Linear(d, hs, bias=False)

    def forward(self, x):
        scores = F.linear(x, self.gate).softmax(dim=-1, dtype=torch.float32)
        weights, indices = torch.topk(scores, self.topk, dim=-1)
        y = torch.zeros_like(x)
        if self.variant == "loop":  # DeepSeek-V3 model.py MoE.forward
            counts = torch.bincount(indices.flatten(), minlength=self.routed).tolist()
            for i in range(self.routed):
                if counts[i] == 0:
                    continue
                idx, top = torch.where(indices == i)
                y = y.index_add(0, idx, self.experts[i](x[idx]) * weights[idx, top, None])
        else:  # sorted: one argsort, contiguous segments, one index_add
            flat = indices.flatten()
            order = torch.argsort(flat, stable=True)
            token = order // self.topk
            xs = x[token]
            counts = torch.bincount(flat, minlength=self.routed).tolist()
            outs = [self.experts[i](seg) for i, seg in enumerate(torch.split(xs, counts)) if counts[i] > 0]
            ys = torch.cat(outs) * weights.flatten()[order, None]
            y = y.index_add(0, token, ys)
        return y + self.s2(F.silu(self.s1(x)) * self.s3(x))


def main():
    cfg = json.loads(sys.argv[1])
    torch.manual_seed(cfg.get("seed", 0))
    torch.set_num_threads(cfg["threads"])
    x = torch.randn(cfg["tokens"], cfg["dim"])
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "variants": {}}
    for variant in ("loop", "sorted"):
        model = MoE(cfg, variant)

        def step():
            model.zero_grad(set_to_none=True)
            loss = model(x).square().mean()
            loss.backward()

        for _ in range(cfg["warmup"]):
            step()
        samples = []
        for _ in range(cfg["repeats"]):
            t0 = time.perf_counter()
            step()
            samples.append((time.perf_counter() - t0) * 1e3)
        result["variants"][variant] = {"samples_ms": samples}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
