#!/usr/bin/python3
"""PyTorch twin of lab.model.TransformerLM's KV-cached decoding, for `npm run bench:serve` and test/serve/torch-twin.

Reference: DeepSeek-V3 inference/model.py (preallocated k/v caches written at [start:end], `torch.inference_mode`),
the model itself from scripts/bench_torch.py's lm_model (the lab's parameter names, dense SwiGLU, MHA, rotate-half RoPE).
Run with Debian's interpreter: /usr/bin/python3 scripts/bench_serve_torch.py < request.json (python3-torch).

Request (one JSON object on stdin): {"model": LMConfig, "weights": {NAME: [floats]}, "threads": N,
  "check": {"prompts": [[ids]] (equal lengths), "steps": N} | null,
  "bench": {"batches": [B...], "inputLen": N, "outputLen": N, "warmup": N, "repeats": N} | null}
Reply (one JSON object on stdout): {"torch": VERSION, "threads": N,
  "check": {"logits": [[[V floats] per step] per row], "tokens": [[greedy ids] per row]} | null,
  "bench": [{"batch": B, "decode_tokens_per_s": [one per repeat], "prefill_ms": [...]}] | null}
"""
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import lm_model  # noqa: E402  (the same twin the training benchmark verifies)


def check_config(m):
    """The twin covers dense MHA models with rotate-half RoPE or learned positions (what lm_model builds)."""
    bad = []
    if m["ffn"] != "dense":
        bad.append(f"ffn {m['ffn']!r} (dense only)")
    if m.get("attention", "mha") != "mha" or m.get("nKVHeads") not in (None, m["nHeads"]):
        bad.append("attention (MHA only)")
    if m.get("slidingWindow") is not None or m.get("ropeScaling"):
        bad.append("slidingWindow / ropeScaling (none)")
    if m["positions"] == "rope" and m.get("ropeLayout", "half") != "half":
        bad.append("ropeLayout (half only)")
    if bad:
        raise ValueError("torch twin: unsupported model settings: " + ", ".join(bad))


def decoder(torch, model, m, batch):
    """A KV-cached forward over `model`'s modules: step(tokens [B, T], start) → logits [B, T, V]."""
    d, H, L, C = m["dim"], m["nHeads"], m["nLayers"], m["contextLen"]
    dh = d // H
    kc = [torch.zeros(batch, H, C, dh) for _ in range(L)]  # preallocated, written at [start, start + T)
    vc = [torch.zeros(batch, H, C, dh) for _ in range(L)]
    inv = m["ropeTheta"] ** (-2 * torch.arange(dh // 2, dtype=torch.float64) / dh)

    def rotate(x, cos, sin):
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def step(tokens, start):
        B, T = tokens.shape
        end = start + T
        x = model.embed(tokens)
        if m["positions"] == "learned":
            x = x + model.pos.weight[start:end]
        angles = torch.arange(start, end, dtype=torch.float64)[:, None] * inv
        cos, sin = torch.cos(angles).float(), torch.sin(angles).float()  # [T, dh/2]
        mask = torch.full((T, end), -1e9).triu(start + 1)  # query t sees keys 0 … start + t
        for layer, block in enumerate(model.layers):
            h = block.attn_norm(x)
            q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in block.attn.wqkv(h).split(d, dim=-1))  # [B, H, T, dh]
            if m["positions"] == "rope":
                q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            kc[layer][:B, :, start:end] = k
            vc[layer][:B, :, start:end] = v
            keys, values = kc[layer][:B, :, :end], vc[layer][:B, :, :end]  # [B, H, end, dh]
            p = torch.softmax(q @ keys.transpose(-1, -2) * (1 / math.sqrt(dh)) + mask, dim=-1)  # [B, H, T, end]
            x = x + block.attn.wo((p @ values).transpose(1, 2).reshape(B, T, d))
            x = x + block.ffn(block.ffn_norm(x))
        h = model.norm(x)
        return h @ model.embed.weight.t() if m["tiedHead"] else model.head(h)

    return step


def main():
    request = json.load(sys.stdin)
    m = request["model"]
    check_config(m)
    import torch

    torch.set_num_threads(request.get("threads", 1))
    model = lm_model(torch, m)
    state = {name: torch.tensor(value, dtype=torch.float32).view(model.state_dict()[name].shape) for name, value in request["weights"].items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "check": None, "bench": None}
    with torch.inference_mode():
        if request.get("check"):
            prompts = torch.tensor(request["check"]["prompts"])
            B, P = prompts.shape
            step = decoder(torch, model, m, B)
            logits = step(prompts, 0)[:, -1]  # [B, V]
            rows, tokens = [[] for _ in range(B)], [[] for _ in range(B)]
            for s in range(request["check"]["steps"]):
                nxt = logits.argmax(-1)  # [B]
                for b in range(B):
                    rows[b].append(logits[b].tolist())
                    tokens[b].append(int(nxt[b]))
                logits = step(nxt[:, None], P + s)[:, -1]
            reply["check"] = {"logits": rows, "tokens": tokens}
        if request.get("bench"):
            cfg, out = request["bench"], []
            g = torch.Generator().manual_seed(0)
            for B in cfg["batches"]:
                step = decoder(torch, model, m, B)
                prompts = torch.randint(0, m["vocabSize"], (B, cfg["inputLen"]), generator=g)
                rates, prefill = [], []
                for r in range(cfg["warmup"] + cfg["repeats"]):
                    t0 = time.perf_counter()
                    nxt = step(prompts, 0)[:, -1].argmax(-1)
                    t1 = time.perf_counter()
                    for s in range(cfg["outputLen"] - 1):
                        nxt = step(nxt[:, None], cfg["inputLen"] + s)[:, -1].argmax(-1)
                    t2 = time.perf_counter()
                    if r >= cfg["warmup"]:
                        prefill.append((t1 - t0) * 1e3)
                        rates.append(B * (cfg["outputLen"] - 1) / (t2 - t1))
                out.append({"batch": B, "decode_tokens_per_s": rates, "prefill_ms": prefill})
            reply["bench"] = out
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()
