#!/usr/bin/python3
"""PyTorch CPU side of `npm run bench`: the same GEMMs and train steps as lib/bench, timed in eager mode.

Reference: torch.nn / torch.optim.Adam (https://pytorch.org/docs/stable/); the transformer is lab.model.TransformerLM
(nanoGPT's model.py with the lab's SwiGLU FFN, RMSNorm and learned or rotary positions; its MoE FFN is DeepSeek-V3
model.py's MoE with the lab's gate: softmax or sigmoid scores, top-k, weights from the scores, optional renormalisation,
route scale, shared experts, the Switch balance loss; dropless).
Run with Debian's interpreter: /usr/bin/python3 scripts/bench_torch.py (python3-torch).

Protocol (JSON lines; lib/bench/torch.ts drives it):
  first line out:  {"ready": true, "torch": VERSION, "python": VERSION, "threads": N, "blas": "...", "omp_wait_policy": "..."}
                   or {"ready": false, "error": "..."} (torch missing: exit status 3)
  each line in:    {"id": ..., "workload": W, "warmup": N, "warmup_ms": MS, "repeats": N}
                   (warmup: at least N untimed calls and until MS have passed, at most 1000 calls)
                   W = {"kind": "gemm", "shape": {"batch","m","n","k","transposeA","transposeB"}}
                     | {"kind": "mlp", "config": MlpConfig} | {"kind": "transformer", "config": TransformerConfig}
                     | {"kind": "lm-fit", "config": LmFitConfig} (steps of lab.train.fit's loop per call)
                   (the config objects of lib/bench/models, camelCase fields; the transformer's "model" is an LMConfig)
  each line out:   {"id": ..., "samples_ms": [...], "loss": float | null, "cores": process CPU s / wall s over all
                   calls} or {"id": ..., "error": "..."}
  twin check in:   {"id": ..., "workload": transformer or lm-fit W, "check": {"weights": {NAME: [floats]}, "inputs": [[ids]],
                   "targets": [[ids]], "steps": N}} (the lab model's weights by parameter name, one batch)
  twin check out:  {"id": ..., "params": COUNT, "losses": [loss before each of the N Adam steps]} (lm-fit: fit's
                   steps, clipping included)
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


def lm_model(torch, m):
    """lab.model.TransformerLM (dense SwiGLU FFN) in torch, with the lab's parameter names and init: lib/model/*.ts."""
    nn = torch.nn
    F = nn.functional
    if m["ffn"] not in ("dense", "moe"):
        raise ValueError(f"model.ffn must be dense or moe, got {m['ffn']!r}")
    if m.get("attention", "mha") != "mha" or m.get("slidingWindow") is not None or m.get("ropeLayout", "half") != "half":
        raise ValueError("the twin has MHA with full causal attention and the half RoPE layout only")
    V, d, H, L, C, hidden, eps = m["vocabSize"], m["dim"], m["nHeads"], m["nLayers"], m["contextLen"], m["ffnHidden"], m["normEps"]
    dh = d // H

    def linear(n_in, n_out):  # lib/nn/linear.ts: no bias, normal(0, 1/sqrt(in))
        layer = nn.Linear(n_in, n_out, bias=False)
        nn.init.normal_(layer.weight, std=1 / math.sqrt(n_in))
        return layer

    class RMSNorm(nn.Module):  # x / sqrt(mean(x²) + eps) · weight
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.weight

    def norm():
        if m["norm"] == "rmsnorm":
            return RMSNorm()
        if m["norm"] == "layernorm":
            return nn.LayerNorm(d, eps=eps)
        raise ValueError(f"model.norm must be rmsnorm or layernorm, got {m['norm']!r}")

    def rope_tables(T):  # lib/model/rope.ts: angle pos·θ^(−2i/dh), rotate-half layout
        i = torch.arange(dh // 2, dtype=torch.float64)
        angles = torch.arange(T, dtype=torch.float64)[:, None] * m["ropeTheta"] ** (-2 * i / dh)
        return torch.cos(angles).float(), torch.sin(angles).float()  # [T, dh/2] each

    def rotate(x, cos, sin):
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.wqkv, self.wo = linear(d, 3 * d), linear(d, d)

        def forward(self, x, rope, mask):
            B, T, _ = x.shape
            q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in self.wqkv(x).split(d, dim=-1))  # [B, H, T, dh]
            if rope is not None:
                q, k = rotate(q, *rope), rotate(k, *rope)
            p = torch.softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(dh)) + mask, dim=-1)  # [B, H, T, T]
            return self.wo((p @ v).transpose(1, 2).reshape(B, T, d))

    class SwiGLU(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1, self.w2, self.w3 = linear(d, hidden), linear(hidden, d), linear(d, hidden)

        def forward(self, x):
            return self.w2(F.silu(self.w1(x)) * self.w3(x))

    class Experts(nn.Module):  # lib/moe/experts.ts: stacked [E, out, in] weights named w1, w2, w3
        def __init__(self, E, h):
            super().__init__()
            self.w1 = nn.Parameter(torch.randn(E, h, d) / math.sqrt(d))
            self.w2 = nn.Parameter(torch.randn(E, d, h) / math.sqrt(h))
            self.w3 = nn.Parameter(torch.randn(E, h, d) / math.sqrt(d))

    class MoE(nn.Module):  # lib/moe/layer.ts, token-choice, dropless
        def __init__(self):
            super().__init__()
            c = m["moe"]
            if c["routing"] != "token-choice" or c["capacityFactor"] is not None or c["nGroups"] != 1:
                raise ValueError("the MoE twin is token-choice, dropless, ungrouped")
            if c["balance"] not in ("none", "switch") or c["zLossCoef"] or c["groupBalanceCoef"] or c["impl"] != "dispatch":
                raise ValueError("the MoE twin's balance is none or switch, without z-loss or group loss")
            self.c, E = c, c["nRouted"]
            self.h = c["expertHidden"] or d
            self.gate = nn.Module()
            self.gate.weight = nn.Parameter(torch.randn(E, d) / math.sqrt(d))
            self.experts = Experts(E, self.h)
            if c["nShared"] > 0:
                w = c["nShared"] * self.h
                self.shared = nn.Module()
                self.shared.w1, self.shared.w2, self.shared.w3 = linear(d, w), linear(w, d), linear(d, w)

        def forward(self, x):  # [N, d] → ([N, d], aux loss)
            c, E, k = self.c, self.c["nRouted"], self.c["topK"]
            logits = x @ self.gate.weight.t()  # [N, E]
            scores = torch.softmax(logits, -1) if c["scoreFunc"] == "softmax" else torch.sigmoid(logits)
            idx = torch.topk(scores.detach(), k, dim=-1).indices  # [N, k]
            w = scores.gather(1, idx)  # [N, k] unbiased
            renorm = c["renormalize"] if c["renormalize"] is not None else c["scoreFunc"] == "sigmoid"
            if renorm:
                w = w / w.sum(-1, keepdim=True)
            w = w * c["routeScale"]
            y = torch.zeros_like(x)
            ex = self.experts
            for e in range(E):  # DeepSeek-V3 model.py MoE.forward: the tokens routed to each expert
                rows, slot = torch.where(idx == e)
                if rows.numel() == 0:
                    continue
                xe = x[rows]
                he = F.linear(F.silu(F.linear(xe, ex.w1[e])) * F.linear(xe, ex.w3[e]), ex.w2[e])
                y = y.index_add(0, rows, he * w[rows, slot, None])
            if c["nShared"] > 0:
                s = self.shared
                y = y + s.w2(F.silu(s.w1(x)) * s.w3(x))
            aux = x.new_zeros(())
            if c["balance"] == "switch":  # lib/moe/balance.ts switchLoss: E·Σ f·P
                f = torch.bincount(idx.reshape(-1), minlength=E).float() / (x.shape[0] * k)
                P = (scores / scores.sum(-1, keepdim=True)).mean(0)
                aux = c["balanceCoef"] * E * (f * P).sum()
            return y, aux

    class Block(nn.Module):
        def __init__(self, layer):
            super().__init__()
            moe = m["ffn"] == "moe" and layer >= m.get("nDenseLayers", 0)
            self.attn_norm, self.attn, self.ffn_norm, self.ffn = norm(), Attention(), norm(), MoE() if moe else SwiGLU()

        def forward(self, x, rope, mask):
            x = x + self.attn(self.attn_norm(x), rope, mask)
            if isinstance(self.ffn, SwiGLU):
                return x + self.ffn(self.ffn_norm(x)), None
            B, T, _ = x.shape
            y, aux = self.ffn(self.ffn_norm(x).reshape(B * T, d))
            return x + y.view(B, T, d), aux

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, d)
            nn.init.normal_(self.embed.weight, std=m["initStd"])
            if m["positions"] == "learned":
                self.pos = nn.Embedding(C, d)
                nn.init.normal_(self.pos.weight, std=m["initStd"])
            elif m["positions"] != "rope":
                raise ValueError(f"model.positions must be rope or learned, got {m['positions']!r}")
            self.layers = nn.ModuleList(Block(i) for i in range(L))
            self.norm = norm()
            if not m["tiedHead"]:
                self.head = nn.Linear(d, V, bias=False)
                nn.init.normal_(self.head.weight, std=m["initStd"])

        def forward(self, tokens):  # [B, T] → (logits [B, T, V], summed MoE aux loss)
            T = tokens.shape[1]
            x = self.embed(tokens)
            x = x + self.pos.weight[:T] if m["positions"] == "learned" else x
            rope = rope_tables(T) if m["positions"] == "rope" else None
            mask = torch.full((T, T), -1e9).triu(1)
            aux = x.new_zeros(())
            for block in self.layers:
                x, a = block(x, rope, mask)
                aux = aux if a is None else aux + a
            h = self.norm(x)
            return (h @ self.embed.weight.t() if m["tiedHead"] else self.head(h)), aux

    return Model()


def transformer_case(torch, cfg, check=None):
    """The benchmark's TransformerLM step (lib/bench/models/transformer.ts): next-token cross-entropy, Adam.
    With `check` (weights by the lab's names, inputs, targets), the model loads those weights and trains on that batch."""
    B, T, V = cfg["batchSize"], cfg["seqLen"], cfg["model"]["vocabSize"]
    model = lm_model(torch, cfg["model"])
    if check is None:
        seq = torch.randint(0, V, (B, T + 1))
        inputs, targets = seq[:, :-1], seq[:, 1:]
    else:
        state = {name: torch.tensor(value, dtype=torch.float32).view(model.state_dict()[name].shape)
                 for name, value in check["weights"].items()}
        model.load_state_dict(state, strict=True)
        inputs, targets = torch.tensor(check["inputs"]), torch.tensor(check["targets"])
    return model, train_step(model, adam(torch, model.parameters(), cfg),
                             lambda: torch.nn.functional.cross_entropy(model(inputs)[0].reshape(B * T, V), targets.reshape(B * T)))


def lm_fit_case(torch, cfg, check=None):
    """lib/bench/models/lm-fit.ts: `steps` steps of lab.train.fit's loop per call: a batch, the loss (cross-entropy +
    MoE aux), backward, global-norm clipping, AdamW at a constant rate, loss and norm read back. With `check`: the
    lab's weights, and that one batch every step."""
    B, T, V = cfg["batchSize"], cfg["seqLen"], cfg["model"]["vocabSize"]
    model = lm_model(torch, cfg["model"])
    if check is not None:
        state = {name: torch.tensor(value, dtype=torch.float32).view(model.state_dict()[name].shape)
                 for name, value in check["weights"].items()}
        model.load_state_dict(state, strict=True)
        fixed = torch.tensor(check["inputs"]), torch.tensor(check["targets"])
    opt = adam(torch, model.parameters(), {"adam": {**cfg["optimizer"], "learningRate": cfg["learningRate"]}})
    params = list(model.parameters())

    def step():
        inputs, targets = fixed if check is not None else (torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T)))
        opt.zero_grad(set_to_none=True)
        logits, aux = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T)) + aux
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg["clipNorm"]).item()
        opt.step()
        return loss.item()

    def run():
        loss = None
        for _ in range(cfg["steps"]):
            loss = step()
        return loss

    return model, step, run


def check_twin(torch, request):
    """Parameter count and the losses of `steps` Adam steps from the lab's weights on the lab's batch."""
    w = request["workload"]
    if w["kind"] == "transformer":
        model, step = transformer_case(torch, w["config"], request["check"])
    elif w["kind"] == "lm-fit":
        model, step, _ = lm_fit_case(torch, w["config"], request["check"])
    else:
        raise ValueError(f"check: workload.kind must be transformer or lm-fit, got {w['kind']!r}")
    params = sum(p.numel() for p in model.parameters())
    return {"id": request["id"], "params": params, "losses": [step() for _ in range(request["check"]["steps"])]}


def measure(torch, request):
    w = request["workload"]
    torch.manual_seed(0)
    if w["kind"] == "gemm":
        fn = gemm_case(torch, w["shape"])
    elif w["kind"] == "mlp":
        fn = mlp_case(torch, w["config"])
    elif w["kind"] == "transformer":
        fn = transformer_case(torch, w["config"])[1]
    elif w["kind"] == "lm-fit":
        fn = lm_fit_case(torch, w["config"])[2]
    else:
        raise ValueError(f"workload.kind must be gemm, mlp, transformer or lm-fit, got {w['kind']!r}")
    cpu0, wall0 = time.process_time(), time.perf_counter()
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
    cores = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    return {"id": request["id"], "samples_ms": samples, "loss": loss, "cores": cores}


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
            emit(check_twin(torch, request) if "check" in request else measure(torch, request))
        except Exception as e:  # one failed case must not end the others
            emit({"id": request.get("id"), "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
