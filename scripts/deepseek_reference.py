#!/usr/bin/python3
"""A tiny DeepSeek-V3-shaped model with the reference semantics, saved as real checkpoints, with its logits.

Reference: DeepSeek-V3 inference/model.py (ModelArgs, precompute_freqs_cis with YaRN, apply_rotary_emb on interleaved
pairs, MLA with its naive and absorb paths, MLP, Gate with the correction bias, Expert, MoE, Block, Transformer) and
inference/convert.py (the Hugging Face <-> inference key mapping). This is our own port of those semantics for
Debian's torch 1.13 (/usr/bin/python3): no distributed code and no FP8 kernels -- FP8 weights are dequantised
(code x scale per 128x128 block, as kernel.py's weight_dequant) and every product runs in float32. It also returns the
logits of every position (the reference returns only the last one).

It writes test/fixtures/deepseek-tiny/ (or the directory given as the first argument):
  reference.json                      tokens, logits [B, T, V] and per-MoE-layer expert indices for each dtype
  {hf,inference}-{f32,bf16,f8}/       config.json + weights; HF: sharded with model.safetensors.index.json (f32, f8)
                                      or one model.safetensors (bf16); inference: model0-mp1.safetensors
  inference-bf16-mp2/                 the BF16 weights split over 2 model-parallel ranks as convert.py splits them
  hf-f32-mtp/                         the F32 model plus one multi-token-prediction layer (HF layer n_layers: enorm,
                                      hnorm, eh_proj, shared_head.norm/head, embed_tokens, an MoE block), as in V3's
                                      release; reference.json "mtp" holds its logits [B, T-1, V] (DeepSeek-V3 report
                                      §2.2; the projection reads [enorm(embedding); hnorm(hidden)] as vLLM's
                                      deepseek_mtp.py, the hidden state being the main model's final normed one)
The lab's test (test/model/deepseek-checkpoint.test.ts) loads each directory and compares its logits.
Run: /usr/bin/python3 scripts/deepseek_reference.py [out_dir]

The other direction (a checkpoint the lab exported with saveDeepSeek, run here; test/model/deepseek-export.test.ts):
  /usr/bin/python3 scripts/deepseek_reference.py --logits DIR [DIR ...] --tokens '[[3, 17, ...], ...]'
reads each checkpoint directory (HF: model.safetensors or shards with model.safetensors.index.json; inference:
model0-mp1.safetensors; F32/F16/BF16, or F8_E4M3 with block scales), maps its config.json to ModelArgs (refusing
settings model.py cannot run), and prints one JSON object: per directory the logits [B, T, V] of the absorb path, the
MoE layers' expert indices, the smallest routing margin and the naive-vs-absorb gap.
"""
import json
import math
import os
import struct
import sys
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

BLOCK = 128  # DeepSeek's FP8 weight block (128 x 128)


@dataclass
class ModelArgs:
    """inference/model.py ModelArgs fields (tiny sizes; MLA with q-LoRA, grouped sigmoid MoE with bias, YaRN on)."""
    max_batch_size: int = 2
    max_seq_len: int = 1024
    vocab_size: int = 96
    dim: int = 32
    inter_dim: int = 160  # > 128: the dense FFN's F8 weights have two (ragged) scale blocks
    moe_inter_dim: int = 16
    n_layers: int = 3
    n_dense_layers: int = 1
    n_heads: int = 2
    n_routed_experts: int = 8
    n_shared_experts: int = 1
    n_activated_experts: int = 2
    n_expert_groups: int = 4
    n_limited_groups: int = 2
    score_func: str = "sigmoid"
    route_scale: float = 2.5
    q_lora_rank: int = 24
    kv_lora_rank: int = 16
    qk_nope_head_dim: int = 8
    qk_rope_head_dim: int = 8
    v_head_dim: int = 8
    original_seq_len: int = 256  # max_seq_len > original_seq_len: YaRN frequencies and mscale are on
    rope_theta: float = 10000.0
    rope_factor: float = 4.0
    beta_fast: int = 32
    beta_slow: int = 1
    mscale: float = 1.0


EPS = 1e-6  # RMSNorm's default eps in model.py


def rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def precompute_freqs_cis(a):
    dim, base, factor = a.qk_rope_head_dim, a.rope_theta, a.rope_factor

    def correction_dim(rot):
        return dim * math.log(a.original_seq_len / (rot * 2 * math.pi)) / (2 * math.log(base))

    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    if a.max_seq_len > a.original_seq_len:
        low = max(math.floor(correction_dim(a.beta_fast)), 0)
        high = min(math.ceil(correction_dim(a.beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
        smooth = 1 - ramp
        freqs = freqs / factor * (1 - smooth) + freqs * smooth
    t = torch.arange(a.max_seq_len)
    angles = torch.outer(t, freqs)
    return torch.polar(torch.ones_like(angles), angles)


def apply_rotary_emb(x, freqs_cis):
    xc = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))  # interleaved pairs (x[2i], x[2i+1])
    f = freqs_cis.view(1, xc.size(1), 1, xc.size(-1))
    return torch.view_as_real(xc * f).flatten(3)


def softmax_scale(a):
    s = (a.qk_nope_head_dim + a.qk_rope_head_dim) ** -0.5
    if a.max_seq_len > a.original_seq_len:
        m = 0.1 * a.mscale * math.log(a.rope_factor) + 1.0
        s = s * m * m
    return s


def mla(a, W, p, x, freqs, mask, path):
    """inference/model.py MLA.forward without a cache (start_pos 0): naive or absorb path."""
    B, T, _ = x.shape
    H, dn, dr, dv, c = a.n_heads, a.qk_nope_head_dim, a.qk_rope_head_dim, a.v_head_dim, a.kv_lora_rank
    if a.q_lora_rank == 0:
        q = x @ W[p + "wq.weight"].T
    else:
        q = rms_norm(x @ W[p + "wq_a.weight"].T, W[p + "q_norm.weight"]) @ W[p + "wq_b.weight"].T
    q = q.view(B, T, H, dn + dr)
    q_nope, q_pe = torch.split(q, [dn, dr], dim=-1)
    q_pe = apply_rotary_emb(q_pe, freqs)
    kv = x @ W[p + "wkv_a.weight"].T
    kv, k_pe = torch.split(kv, [c, dr], dim=-1)
    k_pe = apply_rotary_emb(k_pe.unsqueeze(2), freqs)  # [B, T, 1, dr]: one rope key shared by all heads
    kv = rms_norm(kv, W[p + "kv_norm.weight"])
    wkv_b = W[p + "wkv_b.weight"].view(H, dn + dv, c)
    scale = softmax_scale(a)
    if path == "naive":
        kvb = (kv @ W[p + "wkv_b.weight"].T).view(B, T, H, dn + dv)
        k_nope, v = torch.split(kvb, [dn, dv], dim=-1)
        k = torch.cat([k_nope, k_pe.expand(-1, -1, H, -1)], dim=-1)
        qf = torch.cat([q_nope, q_pe], dim=-1)
        scores = torch.einsum("bshd,bthd->bsht", qf, k) * scale
    else:
        q_lat = torch.einsum("bshd,hdc->bshc", q_nope, wkv_b[:, :dn])
        scores = (torch.einsum("bshc,btc->bsht", q_lat, kv) + torch.einsum("bshr,btr->bsht", q_pe, k_pe.squeeze(2))) * scale
    if mask is not None:
        scores = scores + mask.unsqueeze(1)
    scores = scores.softmax(dim=-1)
    if path == "naive":
        out = torch.einsum("bsht,bthd->bshd", scores, v)
    else:
        out = torch.einsum("bshc,hdc->bshd", torch.einsum("bsht,btc->bshc", scores, kv), wkv_b[:, -dv:])
    return out.flatten(2) @ W[p + "wo.weight"].T


def swiglu(W, p, x):
    return (F.silu(x @ W[p + "w1.weight"].T) * (x @ W[p + "w3.weight"].T)) @ W[p + "w2.weight"].T


def gate(a, W, p, x):
    """inference/model.py Gate.forward; the bias exists when the weights hold it. Also returns the selection margins."""
    scores = x @ W[p + "weight"].T
    scores = scores.softmax(dim=-1) if a.score_func == "softmax" else scores.sigmoid()
    original = scores
    bias = W.get(p + "bias")
    if bias is not None:
        scores = scores + bias
    margins = []
    if a.n_expert_groups > 1:
        scores = scores.view(x.size(0), a.n_expert_groups, -1)
        group_scores = scores.amax(dim=-1) if bias is None else scores.topk(2, dim=-1)[0].sum(dim=-1)
        ranked = group_scores.sort(dim=-1, descending=True)[0]
        margins.append((ranked[:, a.n_limited_groups - 1] - ranked[:, a.n_limited_groups]).min().item())
        idx = group_scores.topk(a.n_limited_groups, dim=-1)[1]
        mask = scores.new_ones(x.size(0), a.n_expert_groups, dtype=torch.bool).scatter_(1, idx, False)
        scores = scores.masked_fill(mask.unsqueeze(-1), float("-inf")).flatten(1)
    ranked = scores.sort(dim=-1, descending=True)[0]
    margins.append((ranked[:, a.n_activated_experts - 1] - ranked[:, a.n_activated_experts]).min().item())
    indices = torch.topk(scores, a.n_activated_experts, dim=-1)[1]
    weights = original.gather(1, indices)
    if a.score_func == "sigmoid":
        weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights * a.route_scale, indices, min(margins)


def moe(a, W, p, x):
    shape = x.shape
    x = x.reshape(-1, a.dim)
    weights, indices, margin = gate(a, W, p + "gate.", x)
    y = torch.zeros_like(x)
    for i in range(a.n_routed_experts):
        idx, top = torch.where(indices == i)
        if idx.numel():
            y[idx] += swiglu(W, f"{p}experts.{i}.", x[idx]) * weights[idx, top, None]
    y = y + swiglu(W, p + "shared_experts.", x)
    return y.view(shape), indices, margin


def block(a, W, p, h, freqs, mask, path, moe_ffn):
    """One decoder block `p` (model.py Block): h + attn(attn_norm(h)), then + ffn(ffn_norm(h)); MoE outputs too."""
    h = h + mla(a, W, p + "attn.", rms_norm(h, W[p + "attn_norm.weight"]), freqs, mask, path)
    x = rms_norm(h, W[p + "ffn_norm.weight"])
    if not moe_ffn:
        return h + swiglu(W, p + "ffn.", x), None, float("inf")
    y, idx, m = moe(a, W, p + "ffn.", x)
    return h + y, idx, m


def forward(a, W, tokens, path="absorb", return_hidden=False):
    """Logits [B, T, V] of every position, the MoE layers' indices [B*T, k], and the smallest routing margin (and the
    final normed hidden state [B, T, dim] with return_hidden)."""
    T = tokens.size(1)
    h = W["embed.weight"][tokens]
    freqs = precompute_freqs_cis(a)[:T]
    mask = torch.full((T, T), float("-inf")).triu_(1) if T > 1 else None
    indices, margin = [], float("inf")
    for l in range(a.n_layers):
        h, idx, m = block(a, W, f"layers.{l}.", h, freqs, mask, path, l >= a.n_dense_layers)
        if idx is not None:
            indices.append(idx)
            margin = min(margin, m)
    hidden = rms_norm(h, W["norm.weight"])
    logits = hidden @ W["head.weight"].T
    return (logits, indices, margin, hidden) if return_hidden else (logits, indices, margin)


def mtp_forward(a, W, tokens, path="absorb"):
    """MTP module 1 (layer n_layers) at positions i < T - 1: hidden state h_i and the embedding of token i + 1 ->
    logits of token i + 2 [B, T-1, V], its expert indices and routing margin."""
    hidden = forward(a, W, tokens, path, return_hidden=True)[3]
    T = tokens.size(1) - 1
    p = f"layers.{a.n_layers}."
    e = rms_norm(W["embed.weight"][tokens[:, 1:]], W[p + "enorm.weight"])
    x = torch.cat([e, rms_norm(hidden[:, :T], W[p + "hnorm.weight"])], -1) @ W[p + "eh_proj.weight"].T
    mask = torch.full((T, T), float("-inf")).triu_(1)
    x, idx, margin = block(a, W, p, x, precompute_freqs_cis(a)[:T], mask, path, True)
    return rms_norm(x, W[p + "shared_head.norm.weight"]) @ W["head.weight"].T, idx, margin


def init_weights(a, seed):
    """Random weights under inference names (std 1/sqrt(fan_in); norms near 1; a random gate bias)."""
    g = torch.Generator().manual_seed(seed)
    W = {}

    def lin(name, out_f, in_f):
        W[name] = torch.randn(out_f, in_f, generator=g) / math.sqrt(in_f)

    def norm(name, n):
        W[name] = 1 + 0.1 * torch.randn(n, generator=g)

    W["embed.weight"] = torch.randn(a.vocab_size, a.dim, generator=g)
    for l in range(a.n_layers):
        init_block(a, W, f"layers.{l}.", l >= a.n_dense_layers, lin, norm, g)
    norm("norm.weight", a.dim)
    lin("head.weight", a.vocab_size, a.dim)
    return W


def init_mtp(a, W, seed):
    """MTP layer n_layers's own weights (enorm, hnorm, eh_proj, shared_head.norm, an MoE block) from its own seed."""
    g = torch.Generator().manual_seed(seed)
    out = {}

    def lin(name, out_f, in_f):
        out[name] = torch.randn(out_f, in_f, generator=g) / math.sqrt(in_f)

    def norm(name, n):
        out[name] = 1 + 0.1 * torch.randn(n, generator=g)

    p = f"layers.{a.n_layers}."
    norm(p + "enorm.weight", a.dim)
    norm(p + "hnorm.weight", a.dim)
    lin(p + "eh_proj.weight", a.dim, 2 * a.dim)
    init_block(a, out, p, True, lin, norm, g)
    norm(p + "shared_head.norm.weight", a.dim)
    return {**W, **out}


def init_block(a, W, p, moe_ffn, lin, norm, g):
    """One block's weights under prefix `p` (MLA with q-LoRA; dense SwiGLU or MoE with a gate bias)."""
    qk = a.qk_nope_head_dim + a.qk_rope_head_dim
    lin(p + "attn.wq_a.weight", a.q_lora_rank, a.dim)
    norm(p + "attn.q_norm.weight", a.q_lora_rank)
    lin(p + "attn.wq_b.weight", a.n_heads * qk, a.q_lora_rank)
    lin(p + "attn.wkv_a.weight", a.kv_lora_rank + a.qk_rope_head_dim, a.dim)
    norm(p + "attn.kv_norm.weight", a.kv_lora_rank)
    lin(p + "attn.wkv_b.weight", a.n_heads * (a.qk_nope_head_dim + a.v_head_dim), a.kv_lora_rank)
    lin(p + "attn.wo.weight", a.dim, a.n_heads * a.v_head_dim)
    norm(p + "attn_norm.weight", a.dim)
    norm(p + "ffn_norm.weight", a.dim)
    if not moe_ffn:
        for w, (o, i) in {"w1": (a.inter_dim, a.dim), "w2": (a.dim, a.inter_dim), "w3": (a.inter_dim, a.dim)}.items():
            lin(f"{p}ffn.{w}.weight", o, i)
    else:
        lin(p + "ffn.gate.weight", a.n_routed_experts, a.dim)
        W[p + "ffn.gate.bias"] = 0.1 * torch.randn(a.n_routed_experts, generator=g)
        h = a.moe_inter_dim
        for e in [f"experts.{i}." for i in range(a.n_routed_experts)] + ["shared_experts."]:
            hh = h * (a.n_shared_experts if e == "shared_experts." else 1)
            for w, (o, i) in {"w1": (hh, a.dim), "w2": (a.dim, hh), "w3": (hh, a.dim)}.items():
                lin(f"{p}ffn.{e}{w}.weight", o, i)


def is_fp8_weight(name):
    """The Linear weights DeepSeek's FP8 release stores as F8_E4M3: attention and FFN/expert projections (not the
    embedding, norms, gate or head)."""
    return name.endswith(".weight") and any(f".{k}.weight" in name for k in ["wq", "wq_a", "wq_b", "wkv_a", "wkv_b", "wo", "w1", "w2", "w3"])


# ---- E4M3 (OCP OFP8): our own encoder for the oracle (bias 7, max 448, no Inf, round to nearest even) ----
def e4m3_values():
    v = np.zeros(256, dtype=np.float64)
    for c in range(256):
        e, m = (c >> 3) & 15, c & 7
        mag = m * 2.0 ** -9 if e == 0 else (8 + m) * 2.0 ** (e - 10)
        v[c] = np.nan if (c & 0x7F) == 0x7F else (-mag if c & 0x80 else mag)
    return v


E4M3 = e4m3_values()


def e4m3_encode(x):
    """float array (|x| <= 448) -> uint8 codes, nearest value, ties to the even code."""
    pos = E4M3[:127]  # codes 0..126, increasing
    a = np.abs(x.astype(np.float64)).ravel()
    hi = np.clip(np.searchsorted(pos, a), 0, 126)
    lo = np.clip(hi - 1, 0, 126)
    dlo, dhi = a - pos[lo], pos[hi] - a
    pick = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lo % 2 == 0, lo, hi)))
    codes = pick.astype(np.uint8) | np.where(np.signbit(x.ravel()), 0x80, 0).astype(np.uint8)
    return codes.reshape(x.shape)


def quantize_fp8(w):
    """128x128 block quantisation: scale = amax/448 per block (the dequant multiplier), codes = e4m3(w / scale)."""
    out_f, in_f = w.shape
    so, si = -(-out_f // BLOCK), -(-in_f // BLOCK)
    scale = np.zeros((so, si), dtype=np.float32)
    codes = np.zeros(w.shape, dtype=np.uint8)
    deq = np.zeros(w.shape, dtype=np.float32)
    wn = w.numpy()
    for i in range(so):
        for j in range(si):
            blk = wn[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK]
            s = np.float32(np.abs(blk).max() / 448.0)
            c = e4m3_encode(blk / s)
            scale[i, j] = s
            codes[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] = c
            deq[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] = (E4M3[c] * np.float64(s)).astype(np.float32)
    return codes, scale, torch.from_numpy(deq)


def bf16_round(t):
    return t.to(torch.bfloat16).to(torch.float32)


# ---- safetensors writer (the format's README: u64 LE header length, JSON header padded with spaces, raw LE data) ----
def write_safetensors(path, entries):
    """entries: list of (name, dtype string, shape, bytes)."""
    header, offset, blobs = {}, 0, []
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * ((8 - len(js) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))


def entry(name, t, dtype):
    if dtype == "F32":
        return (name, "F32", t.shape, t.to(torch.float32).numpy().astype("<f4").tobytes())
    if dtype == "BF16":
        return (name, "BF16", t.shape, t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes())
    raise ValueError(dtype)


# ---- key mapping: inference names -> Hugging Face names (inference/convert.py's table, inverted) ----
HF_OF = {
    "embed": "embed_tokens", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "wq": "q_proj",
    "wq_a": "q_a_proj", "q_norm": "q_a_layernorm", "wq_b": "q_b_proj", "wkv_a": "kv_a_proj_with_mqa",
    "kv_norm": "kv_a_layernorm", "wkv_b": "kv_b_proj", "wo": "o_proj", "gate": "gate", "w1": "gate_proj",
    "w2": "down_proj", "w3": "up_proj", "norm": "norm", "head": "lm_head",
}


def hf_name(name):
    parts = name.split(".")
    if parts[0] == "head":
        return "lm_head." + parts[-1]
    parts = [{"attn": "self_attn", "ffn": "mlp"}.get(x, x) for x in parts]
    parts[-2] = HF_OF[parts[-2]]
    if parts[-1] == "scale":
        parts[-1] = "weight_scale_inv"
    if parts[-1] == "bias" and parts[-2] == "gate":
        parts[-1] = "e_score_correction_bias"
    return "model." + ".".join(parts)


def hf_config(a, dtype):
    c = {
        "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": a.vocab_size,
        "hidden_size": a.dim, "intermediate_size": a.inter_dim, "moe_intermediate_size": a.moe_inter_dim,
        "num_hidden_layers": a.n_layers, "num_attention_heads": a.n_heads, "num_key_value_heads": a.n_heads,
        "n_shared_experts": a.n_shared_experts, "n_routed_experts": a.n_routed_experts,
        "routed_scaling_factor": a.route_scale, "kv_lora_rank": a.kv_lora_rank, "q_lora_rank": a.q_lora_rank,
        "qk_rope_head_dim": a.qk_rope_head_dim, "v_head_dim": a.v_head_dim, "qk_nope_head_dim": a.qk_nope_head_dim,
        "n_group": a.n_expert_groups, "topk_group": a.n_limited_groups, "num_experts_per_tok": a.n_activated_experts,
        "first_k_dense_replace": a.n_dense_layers, "moe_layer_freq": 1, "norm_topk_prob": True,
        "scoring_func": a.score_func, "topk_method": "noaux_tc", "hidden_act": "silu",
        "max_position_embeddings": a.max_seq_len, "rms_norm_eps": EPS, "rope_theta": a.rope_theta,
        "rope_scaling": {"type": "yarn", "factor": a.rope_factor, "original_max_position_embeddings": a.original_seq_len,
                         "beta_fast": a.beta_fast, "beta_slow": a.beta_slow, "mscale": a.mscale, "mscale_all_dim": a.mscale},
        "tie_word_embeddings": False, "num_nextn_predict_layers": 0, "attention_bias": False,
        "torch_dtype": "float32" if dtype == "f32" else "bfloat16",
    }
    if dtype == "f8":
        c["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [BLOCK, BLOCK]}
    return c


# inference/convert.py's `mapping` dims: the axis each module's tensors are split along over model-parallel ranks
MP_DIM = {"embed": 0, "attn_norm": None, "ffn_norm": None, "wq": 0, "wq_a": None, "q_norm": None, "wq_b": 0, "wkv_a": None,
          "kv_norm": None, "wkv_b": 0, "wo": 1, "gate": None, "w1": 0, "w2": 1, "w3": 0, "norm": None, "head": 0}


def save_mp(out, a, W, mp):
    """A BF16 inference checkpoint split over `mp` ranks as convert.py splits one: routed experts dealt out whole by
    index, the mapped modules narrowed along their axis, the rest replicated."""
    d = os.path.join(out, f"inference-bf16-mp{mp}")
    os.makedirs(d, exist_ok=True)
    local = a.n_routed_experts // mp
    for i in range(mp):
        entries = []
        for name, t in W.items():
            dim = MP_DIM[name.split(".")[-2]]
            if "experts" in name and "shared_experts" not in name:
                if not i * local <= int(name.split(".")[-3]) < (i + 1) * local:
                    continue
            elif dim is not None:
                size = t.size(dim) // mp
                t = t.narrow(dim, i * size, size).contiguous()
            entries.append(entry(name, t, "F32" if name.endswith("gate.bias") else "BF16"))
        write_safetensors(os.path.join(d, f"model{i}-mp{mp}.safetensors"), entries)
    cfg = asdict(a)
    cfg["dtype"] = "bf16"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def save(out, a, W, dtype, fmt):
    """Writes one checkpoint directory: weights of `dtype` (f32 | bf16 | f8) in `fmt` (hf | inference)."""
    d = os.path.join(out, f"{fmt}-{dtype}")
    os.makedirs(d, exist_ok=True)
    entries = []
    for name, t in W.items():
        if dtype == "f8" and is_fp8_weight(name):
            codes, scale, _ = quantize_fp8(t)
            entries.append((name, "F8_E4M3", t.shape, codes.tobytes()))
            entries.append(entry(name[: -len("weight")] + "scale", torch.from_numpy(scale), "F32"))
        elif name.endswith("gate.bias"):
            entries.append(entry(name, t, "F32"))  # the released V3 keeps e_score_correction_bias in F32
        else:
            entries.append(entry(name, t, "F32" if dtype == "f32" else "BF16"))
    if fmt == "inference":
        cfg = asdict(a)
        cfg["dtype"] = "fp8" if dtype == "f8" else "bf16"
        write_safetensors(os.path.join(d, "model0-mp1.safetensors"), entries)
    else:
        cfg = hf_config(a, dtype)
        entries = [(hf_name(n), *rest) for n, *rest in entries]
        shards = 1 if dtype == "bf16" else 2
        if shards == 1:
            write_safetensors(os.path.join(d, "model.safetensors"), entries)
        else:
            cut = len(entries) // 2
            parts = [entries[:cut], entries[cut:]]
            weight_map = {}
            for k, part in enumerate(parts):
                fname = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
                write_safetensors(os.path.join(d, fname), part)
                weight_map.update({e[0]: fname for e in part})
            total = sum(len(e[3]) for e in entries)
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def hf_mtp_name(name, n_layers):
    """HF name of a tensor of the MTP layer n_layers (its own modules keep their names; the block maps as any layer)."""
    p = f"layers.{n_layers}."
    rest = name[len(p):]
    if rest.split(".")[0] in ("enorm", "hnorm", "eh_proj", "shared_head"):
        return "model." + name
    return hf_name(name)


def save_mtp(out, a, W):
    """hf-f32-mtp/: the F32 weights with the MTP layer, plus its copies of the embedding and head (as V3's release)."""
    d = os.path.join(out, "hf-f32-mtp")
    os.makedirs(d, exist_ok=True)
    p = f"model.layers.{a.n_layers}."
    entries = [entry(hf_mtp_name(n, a.n_layers), t, "F32") for n, t in W.items()]
    entries += [entry(p + "embed_tokens.weight", W["embed.weight"], "F32"), entry(p + "shared_head.head.weight", W["head.weight"], "F32")]
    write_safetensors(os.path.join(d, "model.safetensors"), entries)
    cfg = hf_config(a, "f32")
    cfg["num_nextn_predict_layers"] = 1
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def dequantised(W, dtype):
    """The float32 weights a checkpoint of `dtype` holds after loading (what the reference logits are computed from)."""
    if dtype == "f32":
        return dict(W)
    out = {}
    for name, t in W.items():
        if dtype == "f8" and is_fp8_weight(name):
            out[name] = quantize_fp8(t)[2]
        elif name.endswith("gate.bias"):
            out[name] = t
        else:
            out[name] = bf16_round(t)
    return out


# ---- the other direction: load a checkpoint directory (the lab's export) ----
ST_NUMPY = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "F8_E4M3": "u1"}


def read_safetensors(path):
    """name -> (dtype string, float32 tensor): F32/F16 as stored, BF16 widened, F8_E4M3 decoded to its E4M3 values."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        dtype = meta["dtype"]
        if dtype not in ST_NUMPY:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype}; this reader knows {sorted(ST_NUMPY)}")
        arr = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=ST_NUMPY[dtype])
        if dtype == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        elif dtype == "F8_E4M3":
            arr = E4M3[arr].astype(np.float32)
        out[name] = (dtype, torch.from_numpy(arr.astype(np.float32).reshape(meta["shape"])))
    return out


INF_OF = {v: k for k, v in HF_OF.items()}


def inference_name(name):
    """HF name -> inference name (inference/convert.py's mapping); None for a multi-token-prediction module's own
    tensors, which convert.py drops."""
    if name.startswith("lm_head."):
        return "head." + name.split(".")[-1]
    parts = name[len("model."):].split(".")
    if parts[-2] not in INF_OF:
        return None
    parts = [{"self_attn": "attn", "mlp": "ffn"}.get(x, x) for x in parts]
    parts[-2] = INF_OF[parts[-2]]
    parts[-1] = {"weight_scale_inv": "scale", "e_score_correction_bias": "bias"}.get(parts[-1], parts[-1])
    return ".".join(parts)


def args_from_hf(c):
    """DeepseekV3Config -> ModelArgs; settings inference/model.py cannot run are errors naming the field."""
    def need(ok, what):
        if not ok:
            raise ValueError(f"config.json: model.py cannot run {what}")
    rs = c.get("rope_scaling") or None
    need(c.get("rope_interleave", True), "rope_interleave false (it rotates interleaved pairs)")
    need(c.get("rms_norm_eps") == EPS, f"rms_norm_eps {c.get('rms_norm_eps')} (its RMSNorm uses {EPS})")
    need(c.get("hidden_act", "silu") == "silu", f"hidden_act {c.get('hidden_act')}")
    need(not c.get("tie_word_embeddings", False), "a tied head")
    need(not c.get("attention_bias", False), "attention biases")
    need(c.get("num_key_value_heads", c["num_attention_heads"]) == c["num_attention_heads"], "num_key_value_heads != num_attention_heads")
    need(c.get("moe_layer_freq", 1) == 1, "moe_layer_freq != 1")
    need(bool(c.get("norm_topk_prob")) == (c["scoring_func"] == "sigmoid"), "norm_topk_prob other than (scoring_func == sigmoid)")
    need(rs is None or (rs.get("type") == "yarn" and rs.get("mscale", 1) == rs.get("mscale_all_dim", 1)),
         f"rope_scaling {rs} (YaRN with mscale = mscale_all_dim only)")
    return ModelArgs(
        max_seq_len=c["max_position_embeddings"], vocab_size=c["vocab_size"], dim=c["hidden_size"], inter_dim=c["intermediate_size"],
        moe_inter_dim=c["moe_intermediate_size"], n_layers=c["num_hidden_layers"], n_dense_layers=c["first_k_dense_replace"],
        n_heads=c["num_attention_heads"], n_routed_experts=c["n_routed_experts"], n_shared_experts=c["n_shared_experts"],
        n_activated_experts=c["num_experts_per_tok"], n_expert_groups=c["n_group"], n_limited_groups=c["topk_group"],
        score_func=c["scoring_func"], route_scale=c["routed_scaling_factor"], q_lora_rank=c.get("q_lora_rank") or 0,
        kv_lora_rank=c["kv_lora_rank"], qk_nope_head_dim=c["qk_nope_head_dim"], qk_rope_head_dim=c["qk_rope_head_dim"],
        v_head_dim=c["v_head_dim"], rope_theta=c["rope_theta"],
        original_seq_len=rs["original_max_position_embeddings"] if rs else c["max_position_embeddings"],
        rope_factor=rs["factor"] if rs else 1.0, beta_fast=rs["beta_fast"] if rs else 32, beta_slow=rs["beta_slow"] if rs else 1,
        mscale=rs.get("mscale_all_dim", 1.0) if rs else 1.0)


def load_checkpoint(d):
    """(ModelArgs, float32 weights under inference names) of a checkpoint directory; F8 weights dequantised per block."""
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    hf = "hidden_size" in c
    if hf:
        a = args_from_hf(c)
        index = os.path.join(d, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        else:
            files = ["model.safetensors"]
    else:
        fields = {k: v for k, v in c.items() if k != "dtype"}
        a = ModelArgs(**fields)
        files = ["model0-mp1.safetensors"]
    raw = {}
    for fname in files:
        for name, v in read_safetensors(os.path.join(d, fname)).items():
            key = inference_name(name) if hf else name
            if key is not None and not (key.startswith("layers.") and int(key.split(".")[1]) >= a.n_layers):
                raw[key] = v
    W = {}
    for name, (dtype, t) in raw.items():
        if name.endswith(".scale"):
            continue
        if dtype == "F8_E4M3":
            s = raw[name[: -len("weight")] + "scale"][1]
            full = s.repeat_interleave(BLOCK, 0).repeat_interleave(BLOCK, 1)[: t.size(0), : t.size(1)]
            t = t * full
        W[name] = t
    return a, W


def export_logits(dirs, tokens):
    """The reference's logits of each exported checkpoint (absorb path; the naive path's gap is reported)."""
    out = {}
    for d in dirs:
        a, W = load_checkpoint(d)
        logits, indices, margin = forward(a, W, tokens, "absorb")
        naive = forward(a, W, tokens, "naive")[0]
        out[d] = {"logits": logits.flatten().tolist(), "shape": list(logits.shape), "indices": [i.tolist() for i in indices],
                  "routing_margin": margin, "naive_absorb_max_diff": (logits - naive).abs().max().item()}
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--logits":
        torch.set_num_threads(1)
        at = sys.argv.index("--tokens")
        print(json.dumps(export_logits(sys.argv[2:at], torch.tensor(json.loads(sys.argv[at + 1])))))
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "deepseek-tiny")
    torch.set_num_threads(1)
    a = ModelArgs()
    tokens = torch.tensor([[3, 17, 42, 5, 88, 61, 0, 95], [71, 2, 33, 33, 9, 50, 14, 27]])
    # A seed whose routing decisions are clear in every dtype: no top-k or group choice within 1e-3 of a tie, so
    # float32 rounding differences between the oracle and the lab cannot flip an expert.
    for seed in range(100):
        W = init_weights(a, seed)
        if all(forward(a, dequantised(W, d), tokens)[2] > 1e-3 for d in ["f32", "bf16", "f8"]):
            break
    else:
        raise RuntimeError("no seed in 0..99 gives routing margins > 1e-3")
    ref = {"seed": seed, "tokens": tokens.tolist(), "args": asdict(a), "dtypes": {}}
    for dtype in ["f32", "bf16", "f8"]:
        Wd = dequantised(W, dtype)
        logits, indices, margin = forward(a, Wd, tokens, "absorb")
        naive = forward(a, Wd, tokens, "naive")[0]
        gap = (logits - naive).abs().max().item()
        assert gap < 1e-4, f"naive and absorb paths differ by {gap}"
        ref["dtypes"][dtype] = {
            "logits": [round(float(v), 7) for v in logits.flatten().tolist()],
            "shape": list(logits.shape),
            "indices": [i.tolist() for i in indices],
            "routing_margin": margin,
            "naive_absorb_max_diff": gap,
        }
        for fmt in ["hf", "inference"]:
            save(out, a, W, dtype, fmt)
    save_mp(out, a, W, 2)
    # The MTP layer from its own seed (the main weights above stay as they were), with clear routing too.
    for mtp_seed in range(1000, 1100):
        Wm = init_mtp(a, W, mtp_seed)
        mtp_logits, mtp_idx, mtp_margin = mtp_forward(a, Wm, tokens, "absorb")
        if mtp_margin > 1e-3:
            break
    else:
        raise RuntimeError("no MTP seed in 1000..1099 gives a routing margin > 1e-3")
    mtp_gap = (mtp_logits - mtp_forward(a, Wm, tokens, "naive")[0]).abs().max().item()
    assert mtp_gap < 1e-4, f"MTP naive and absorb paths differ by {mtp_gap}"
    ref["mtp"] = {"seed": mtp_seed, "logits": [round(float(v), 7) for v in mtp_logits.flatten().tolist()], "shape": list(mtp_logits.shape),
                  "indices": mtp_idx.tolist(), "routing_margin": mtp_margin}
    save_mtp(out, a, Wm)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)
    print(json.dumps({"out": os.path.abspath(out), "seed": seed, **{d: ref["dtypes"][d]["routing_margin"] for d in ref["dtypes"]}}))


if __name__ == "__main__":
    main()
