#!/usr/bin/python3
"""PyTorch CPU side of `npm run bench`: the same GEMMs and train steps as lib/bench, timed in eager mode.

Reference: torch.nn / torch.optim.Adam (https://pytorch.org/docs/stable/), nanoGPT's model.py for the transformer.
Run with Debian's interpreter: /usr/bin/python3 scripts/bench_torch.py (python3-torch).

Protocol (JSON lines; lib/bench/torch.ts drives it):
  first line out:  {"ready": true, "torch": VERSION, "python": VERSION, "threads": N, "blas": "...", "omp_wait_policy": "..."}
                   or {"ready": false, "error": "..."} (torch missing: exit status 3)
  each line in:    {"id": ..., "workload": W, "warmup": N, "warmup_ms": MS, "repeats": N}
                   (warmup: at least N untimed calls and until MS have passed, at most 1000 calls)
                   W = {"kind": "gemm", "shape": {"batch","m","n","k","transposeA","transposeB"}}
                     | {"kind": "mlp", "config": MlpConfig} | {"kind": "transformer", "config": TransformerConfig}
                   (the config objects of lib/bench/models, camelCase fields)
  each line out:   {"id": ..., "samples_ms": [...], "loss": float | null} or {"id": ..., "error": "..."}
Argument: --threads N (torch.set_num_threads; the native backend's pool size).
"""
import argparse
import json
import math
import os
import platform
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def gemm_case(torch, shape):
    """A timed matmul: C[b] = op(A[b]) op(B[b]), operands stored transposed where the flag is set."""
    batch, m, n, k = shape["batch"], shape["m"], shape["n"], shape["k"]
    lead = [batch] if batch > 1 else []
    a = torch.rand(lead + ([k, m] if shape["transposeA"] else [m, k])) * 2 - 1
    b = torch.rand(lead + ([n, k] if shape["transposeB"] else [k, n])) * 2 - 1
    a = a.transpose(-1, -2) if shape["transposeA"] else a
    b = b.transpose(-1, -2) if shape["transposeB"] else b

    def run():
        torch.matmul(a, b)
        return None

    return run


def adam(torch, params, cfg):
    """The lab's AdamW config (lib/train/optimizer.ts) as torch.optim.AdamW: decay on parameters of rank >= decayMinRank."""
    a = cfg["adam"]
    decay, min_rank = a.get("weightDecay", 0.0), a.get("decayMinRank", 0)
    params = list(params)
    groups = [{"params": [p for p in params if p.ndim >= min_rank], "weight_decay": decay},
              {"params": [p for p in params if p.ndim < min_rank], "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=a["learningRate"], betas=(a["beta1"], a["beta2"]), eps=a["epsilon"])


def train_step(model, opt, loss_fn):
    def run():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()

    return run


def mlp_case(torch, cfg):
    """784 → hidden (ReLU) → classes, softmax cross-entropy, Adam: lib/bench/models/mlp.ts."""
    nn = torch.nn
    widths = [cfg["inputSize"], *cfg["hidden"], cfg["classes"]]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    x = torch.randn(cfg["batchSize"], cfg["inputSize"])
    y = torch.randint(0, cfg["classes"], (cfg["batchSize"],))
    return train_step(model, adam(torch, model.parameters(), cfg), lambda: nn.functional.cross_entropy(model(x), y))


def transformer_case(torch, cfg):
    """Decoder-only, pre-RMSNorm causal MHA + GELU/SiLU MLP, tied head: lib/bench/models/transformer.ts."""
    nn = torch.nn
    F = nn.functional
    V, d, H, L, T, B = cfg["vocabSize"], cfg["dModel"], cfg["heads"], cfg["layers"], cfg["seqLen"], cfg["batchSize"]
    hidden, eps, dh = cfg["mlpRatio"] * d, cfg["normEps"], d // H
    act = F.gelu if cfg["activation"] == "gelu" else F.silu

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.weight

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = RMSNorm(), RMSNorm()
            self.wqkv = nn.Linear(d, 3 * d, bias=False)
            self.wo = nn.Linear(d, d, bias=False)
            self.w1 = nn.Linear(d, hidden, bias=False)
            self.w2 = nn.Linear(hidden, d, bias=False)

        def forward(self, x, mask):
            q, k, v = self.wqkv(self.norm1(x)).split(d, dim=-1)
            q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in (q, k, v))  # [B, H, T, dh]
            p = torch.softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(dh)) + mask, dim=-1)  # [B, H, T, T]
            x = x + self.wo((p @ v).transpose(1, 2).reshape(B, T, d))
            return x + self.w2(act(self.w1(self.norm2(x))))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, d)
            self.pos = nn.Parameter(torch.zeros(T, d))
            self.blocks = nn.ModuleList(Block() for _ in range(L))
            self.norm = RMSNorm()
            self.head = None if cfg["tiedHead"] else nn.Linear(d, V, bias=False)
            self.register_buffer("mask", torch.full((T, T), -1e9).triu(1))

        def forward(self, tokens):
            x = self.embed(tokens) + self.pos  # [B, T, d]
            for block in self.blocks:
                x = block(x, self.mask)
            h = self.norm(x)
            return h @ self.embed.weight.t() if self.head is None else self.head(h)  # [B, T, V]

    model = Model()
    std, residual_std = cfg["initStd"], cfg["initStd"] / math.sqrt(2 * L)
    for name, p in model.named_parameters():  # the tfjs model's init: truncated normal (±2σ), norm gains one
        if p.dim() == 2:
            s = residual_std if name.endswith(("wo.weight", "w2.weight")) else std
            nn.init.trunc_normal_(p, std=s, a=-2 * s, b=2 * s)
    seq = torch.randint(0, V, (B, T + 1))
    inputs, targets = seq[:, :-1], seq[:, 1:]
    return train_step(model, adam(torch, model.parameters(), cfg),
                      lambda: F.cross_entropy(model(inputs).reshape(B * T, V), targets.reshape(B * T)))


def measure(torch, request):
    w = request["workload"]
    torch.manual_seed(0)
    if w["kind"] == "gemm":
        fn = gemm_case(torch, w["shape"])
    elif w["kind"] == "mlp":
        fn = mlp_case(torch, w["config"])
    elif w["kind"] == "transformer":
        fn = transformer_case(torch, w["config"])
    else:
        raise ValueError(f"workload.kind must be gemm, mlp or transformer, got {w['kind']!r}")
    until = time.perf_counter() + request.get("warmup_ms", 0) / 1e3
    calls = 0
    while calls < 1000 and (calls < request["warmup"] or time.perf_counter() < until):
        fn()
        calls += 1
    samples, loss = [], None
    for _ in range(request["repeats"]):
        start = time.perf_counter()
        loss = fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return {"id": request["id"], "samples_ms": samples, "loss": loss}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    args = parser.parse_args()
    try:
        import torch
    except ImportError as e:
        emit({"ready": False, "error": f"{e}; apt-get install python3-torch"})
        sys.exit(3)
    torch.set_num_threads(args.threads)
    torch.matmul(torch.ones(64, 64), torch.ones(64, 64))  # loads the BLAS library, so the maps below name it
    with open("/proc/self/maps") as maps:
        blas = sorted({line.split()[-1].rsplit("/", 1)[-1] for line in maps if "blas" in line.lower() and "/" in line})
    emit({"ready": True, "torch": torch.__version__, "python": platform.python_version(),
          "threads": torch.get_num_threads(), "blas": ", ".join(blas),
          "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            emit(measure(torch, request))
        except Exception as e:  # one failed case must not end the others
            emit({"id": request.get("id"), "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
