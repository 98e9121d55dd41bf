#!/usr/bin/python3
"""Independent PyTorch forward pass of Hugging Face decoder checkpoints.

The reference sinkrun's own forward pass is compared with. It shares no code
with sinkrun: safetensors files are parsed here by hand (struct, json, numpy),
config.json is read with the transformers config classes' defaults, and each
family's forward pass is written from the published architecture definitions
(transformers' modeling_gpt2.py, modeling_llama.py, modeling_mistral.py,
modeling_qwen2.py, modeling_gpt_neox.py, modeling_opt.py), in float32 (or
float64 with --float64), without the transformers library.

Usage:
  /usr/bin/python3 hfref.py --ckpt DIR --tokens TOKENS --out OUT [--eps 0.3]

TOKENS is a JSON file holding a list of equal-length token-id lists (or an
object with a "tokens" key), or a .npy integer array [N, T].

OUT receives:
  attn_LL.npy       float32 [N, H, T, T] attention probabilities of layer LL
                    (rows are queries; causal, so A[..., i, j] = 0 for j > i)
  hidden_norms.npy  float32 [L + 1, N, T] L2 norm of every token's hidden
                    state: the embeddings (row 0), then each block's output
                    (before the final norm)
  summary.json      family, shapes, eps, sink1_pct (SPEC §1 Sink_1: % of
                    (sequence, layer, head) whose alpha_1 = mean over the T
                    queries of A[:, 0] exceeds eps), alpha1 [L][H] (mean over
                    sequences), massive [L + 1] (first token's norm over the
                    mean of the others', averaged over sequences)
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- safetensors

_NP_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2"}


def read_safetensors(path):
    """Returns {name: float32 numpy array} for one safetensors file, reading
    one tensor at a time (peak memory: the float32 weights, not the file)."""
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        entries = sorted((e["data_offsets"][0], name) for name, e in header.items() if name != "__metadata__")
        for begin, name in entries:
            entry = header[name]
            end = entry["data_offsets"][1]
            dt = entry["dtype"]
            if dt != "BF16" and dt not in _NP_DTYPES:
                continue  # integer / bool buffers are not weights
            f.seek(8 + n + begin)
            raw = f.read(end - begin)
            if len(raw) != end - begin:
                sys.exit("hfref: %s: tensor %r runs past the end of the file" % (path, name))
            if dt == "BF16":
                arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, dtype=_NP_DTYPES[dt]).astype(np.float32)
            out[name] = arr.reshape(tuple(entry["shape"]))
    return out


def read_weights(ckpt):
    index = os.path.join(ckpt, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for name in files:
        weights.update(read_safetensors(os.path.join(ckpt, name)))
    return weights


class Weights:
    """Tensor lookup under a module prefix (e.g. "model." or "")."""

    def __init__(self, raw, prefixes, probe, dtype):
        self.raw, self.dtype = raw, dtype
        self.prefix = next((p for p in prefixes if p + probe in raw), None)
        if self.prefix is None:
            sys.exit("hfref: no tensor %r under prefixes %r" % (probe, prefixes))

    def __call__(self, name, absolute=False):
        key = name if absolute else self.prefix + name
        if key not in self.raw:
            sys.exit("hfref: missing tensor %r" % key)
        return torch.from_numpy(self.raw[key]).to(self.dtype)  # no copy in float32

    def has(self, name, absolute=False):
        return (name if absolute else self.prefix + name) in self.raw


# ---------------------------------------------------------------- building blocks


def gelu_tanh(x):
    # gelu_new / gelu_pytorch_tanh / gelu_fast: the tanh approximation
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACTIVATIONS = {
    "gelu": lambda x: F.gelu(x),
    "gelu_new": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "gelu_fast": gelu_tanh,
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
}


def activation(name):
    if name not in ACTIVATIONS:
        sys.exit("hfref: unsupported activation %r" % name)
    return ACTIVATIONS[name]


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def linear(x, w, b=None):
    """nn.Linear: w is [out, in]."""
    y = x @ w.t()
    return y + b if b is not None else y


def rope_inv_freq(cfg, dim, base):
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    scaling = cfg.get("rope_scaling") or cfg.get("rope_parameters")
    if not scaling:
        return inv
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old / high) & (wavelen <= old / low)
        return torch.where(medium, smoothed, scaled)
    sys.exit("hfref: unsupported rope scaling %r" % kind)


def rope_cos_sin(inv_freq, T, dtype):
    pos = torch.arange(T, dtype=torch.float64)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, rot]
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin):
    """x [N, H, T, dh]; rotates the first cos.shape[-1] dims (rotate_half)."""
    rot = cos.shape[-1]
    x_rot, x_pass = x[..., :rot], x[..., rot:]
    x_rot = x_rot * cos + rotate_half(x_rot) * sin
    return torch.cat((x_rot, x_pass), dim=-1)


def split_heads(x, heads):
    N, T, D = x.shape
    return x.view(N, T, heads, D // heads).transpose(1, 2)


def merge_heads(x):
    N, H, T, dh = x.shape
    return x.transpose(1, 2).reshape(N, T, H * dh)


def attend(q, k, v, scale, window=None):
    """q [N, H, T, dh], k and v [N, KV, T, dh] -> (out [N, H, T, dh], probs [N, H, T, T])."""
    H, KV = q.shape[1], k.shape[1]
    if KV != H:  # repeat_kv: query head h reads kv head h // (H / KV)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
    T = q.shape[2]
    scores = (q @ k.transpose(-1, -2)) * scale
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    visible = j <= i
    if window:
        visible = visible & (i - j < window)
    scores = scores.masked_fill(~visible, torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1)
    return probs @ v, probs


# ---------------------------------------------------------------- families
# Each forward yields (probs [N, H, T, T], hidden [N, T, D]) per layer after
# yielding the embeddings' hidden state once with probs None.


def forward_gpt2(cfg, raw, ids, dtype):
    W = Weights(raw, ["transformer.", ""], "wte.weight", dtype)
    if cfg.get("scale_attn_by_inverse_layer_idx") or cfg.get("scale_attn_weights") is False:
        sys.exit("hfref: unsupported GPT-2 attention scaling")
    D, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = activation(cfg.get("activation_function", "gelu_new"))
    N, T = ids.shape
    h = W("wte.weight")[ids] + W("wpe.weight")[torch.arange(T)]
    yield None, h
    for l in range(L):
        p = "h.%d." % l
        a = layer_norm(h, W(p + "ln_1.weight"), W(p + "ln_1.bias"), eps)
        qkv = a @ W(p + "attn.c_attn.weight") + W(p + "attn.c_attn.bias")  # Conv1D: [in, out]
        q, k, v = qkv.split(D, dim=-1)
        q, k, v = split_heads(q, H), split_heads(k, H), split_heads(v, H)
        out, probs = attend(q, k, v, 1.0 / math.sqrt(D // H))
        h = h + merge_heads(out) @ W(p + "attn.c_proj.weight") + W(p + "attn.c_proj.bias")
        m = layer_norm(h, W(p + "ln_2.weight"), W(p + "ln_2.bias"), eps)
        m = act(m @ W(p + "mlp.c_fc.weight") + W(p + "mlp.c_fc.bias"))
        h = h + m @ W(p + "mlp.c_proj.weight") + W(p + "mlp.c_proj.bias")
        yield probs, h


def forward_llama(cfg, raw, ids, dtype):
    family = cfg["model_type"]
    W = Weights(raw, ["model.", ""], "embed_tokens.weight", dtype)
    D, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    KV = cfg.get("num_key_value_heads") or (8 if family == "mistral" else H)
    dh = cfg.get("head_dim") or D // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    act = activation(cfg.get("hidden_act", "silu"))
    if family == "llama":
        qkv_bias = o_bias = cfg.get("attention_bias", False)
        mlp_bias = cfg.get("mlp_bias", False)
    else:
        qkv_bias, o_bias, mlp_bias = family == "qwen2", False, False
    window = None
    if family == "mistral":
        window = cfg.get("sliding_window")
    elif family == "qwen2" and cfg.get("use_sliding_window"):
        window = cfg.get("sliding_window")
    base = cfg.get("rope_theta", (cfg.get("rope_parameters") or {}).get("rope_theta", 10000.0))
    N, T = ids.shape
    cos, sin = rope_cos_sin(rope_inv_freq(cfg, dh, base), T, dtype)
    h = W("embed_tokens.weight")[ids]
    yield None, h

    def lin(name, x, bias):
        return linear(x, W(name + ".weight"), W(name + ".bias") if bias else None)

    for l in range(L):
        p = "layers.%d." % l
        a = rms_norm(h, W(p + "input_layernorm.weight"), eps)
        q = split_heads(lin(p + "self_attn.q_proj", a, qkv_bias), H)
        k = split_heads(lin(p + "self_attn.k_proj", a, qkv_bias), KV)
        v = split_heads(lin(p + "self_attn.v_proj", a, qkv_bias), KV)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        out, probs = attend(q, k, v, 1.0 / math.sqrt(dh), window)
        h = h + lin(p + "self_attn.o_proj", merge_heads(out), o_bias)
        m = rms_norm(h, W(p + "post_attention_layernorm.weight"), eps)
        m = act(lin(p + "mlp.gate_proj", m, mlp_bias)) * lin(p + "mlp.up_proj", m, mlp_bias)
        h = h + lin(p + "mlp.down_proj", m, mlp_bias)
        yield probs, h


def forward_gpt_neox(cfg, raw, ids, dtype):
    W = Weights(raw, ["gpt_neox.", ""], "embed_in.weight", dtype)
    D, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    dh = D // H
    rot = int(dh * cfg.get("rotary_pct", cfg.get("partial_rotary_factor", 0.25)))
    base = cfg.get("rotary_emb_base", cfg.get("rope_theta", 10000.0))
    eps = cfg.get("layer_norm_eps", 1e-5)
    act = activation(cfg.get("hidden_act", "gelu"))
    bias = cfg.get("attention_bias", True)
    parallel = cfg.get("use_parallel_residual", True)
    N, T = ids.shape
    cos, sin = rope_cos_sin(rope_inv_freq(cfg, rot, base), T, dtype)
    h = W("embed_in.weight")[ids]
    yield None, h
    for l in range(L):
        p = "layers.%d." % l
        a = layer_norm(h, W(p + "input_layernorm.weight"), W(p + "input_layernorm.bias"), eps)
        qkv = linear(a, W(p + "attention.query_key_value.weight"),
                     W(p + "attention.query_key_value.bias") if bias else None)
        qkv = qkv.view(N, T, H, 3 * dh).transpose(1, 2)  # per head: q | k | v
        q, k, v = qkv[..., :dh], qkv[..., dh:2 * dh], qkv[..., 2 * dh:]
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        out, probs = attend(q, k, v, 1.0 / math.sqrt(dh))
        attn = linear(merge_heads(out), W(p + "attention.dense.weight"),
                      W(p + "attention.dense.bias") if bias else None)

        def mlp(x):
            x = layer_norm(x, W(p + "post_attention_layernorm.weight"), W(p + "post_attention_layernorm.bias"), eps)
            x = act(linear(x, W(p + "mlp.dense_h_to_4h.weight"), W(p + "mlp.dense_h_to_4h.bias")))
            return linear(x, W(p + "mlp.dense_4h_to_h.weight"), W(p + "mlp.dense_4h_to_h.bias"))

        if parallel:
            h = h + attn + mlp(h)
        else:
            h = h + attn
            h = h + mlp(h)
        yield probs, h


def forward_opt(cfg, raw, ids, dtype):
    W = Weights(raw, ["model.decoder.", "decoder."], "embed_tokens.weight", dtype)
    D, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    if cfg.get("word_embed_proj_dim", D) != D:
        sys.exit("hfref: OPT project_in/project_out not supported")
    dh = D // H
    pre = cfg.get("do_layer_norm_before", True)
    act = activation(cfg.get("activation_function", "relu"))
    bias = cfg.get("enable_bias", True)
    eps = 1e-5  # nn.LayerNorm's default; OPT's config has no eps
    N, T = ids.shape
    h = W("embed_tokens.weight")[ids] + W("embed_positions.weight")[torch.arange(T) + 2]
    yield None, h

    def lin(name, x):
        return linear(x, W(name + ".weight"), W(name + ".bias") if bias else None)

    def ln(name, x):
        return layer_norm(x, W(name + ".weight"), W(name + ".bias"), eps)

    for l in range(L):
        p = "layers.%d." % l
        a = ln(p + "self_attn_layer_norm", h) if pre else h
        q = lin(p + "self_attn.q_proj", a) * dh ** -0.5  # OPT scales q after its bias
        q, k, v = split_heads(q, H), split_heads(lin(p + "self_attn.k_proj", a), H), split_heads(lin(p + "self_attn.v_proj", a), H)
        out, probs = attend(q, k, v, 1.0)
        h = h + lin(p + "self_attn.out_proj", merge_heads(out))
        if not pre:
            h = ln(p + "self_attn_layer_norm", h)
        m = ln(p + "final_layer_norm", h) if pre else h
        h = h + lin(p + "fc2", act(lin(p + "fc1", m)))
        if not pre:
            h = ln(p + "final_layer_norm", h)
        yield probs, h


FAMILIES = {
    "gpt2": forward_gpt2,
    "llama": forward_llama,
    "mistral": forward_llama,
    "qwen2": forward_llama,
    "gpt_neox": forward_gpt_neox,
    "opt": forward_opt,
}

# ---------------------------------------------------------------- driver


def read_tokens(path):
    if path.endswith(".npy"):
        ids = np.load(path)
    else:
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data["tokens"]
        ids = np.array(data, dtype=np.int64)
    if ids.ndim != 2:
        sys.exit("hfref: tokens must be [N, T], got shape %r" % (ids.shape,))
    return torch.from_numpy(ids.astype(np.int64))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--eps", type=float, default=0.3)
    ap.add_argument("--float64", action="store_true", help="compute in float64 (maps still written as float32)")
    ap.add_argument("--no-maps", action="store_true", help="write only hidden_norms.npy and summary.json")
    args = ap.parse_args()

    torch.set_grad_enabled(False)
    dtype = torch.float64 if args.float64 else torch.float32
    with open(os.path.join(args.ckpt, "config.json")) as f:
        cfg = json.load(f)
    family = cfg.get("model_type")
    if family not in FAMILIES:
        sys.exit("hfref: unsupported model_type %r" % family)
    ids = read_tokens(args.tokens)
    raw = read_weights(args.ckpt)
    os.makedirs(args.out, exist_ok=True)

    norms, alpha1, massive = [], [], []
    layer = 0
    for probs, h in FAMILIES[family](cfg, raw, ids, dtype):
        n = torch.linalg.norm(h, dim=-1)  # [N, T]
        norms.append(n.float().numpy())
        massive.append(float((n[:, 0] / n[:, 1:].mean(dim=1)).mean()))
        if probs is None:
            continue
        if not args.no_maps:
            np.save(os.path.join(args.out, "attn_%02d.npy" % layer), probs.float().numpy())
        alpha1.append(probs[..., :, 0].mean(dim=-1))  # [N, H]: mean over the T queries
        layer += 1
    a1 = torch.stack(alpha1, dim=1)  # [N, L, H]
    np.save(os.path.join(args.out, "hidden_norms.npy"), np.stack(norms))
    summary = {
        "family": family,
        "sequences": int(ids.shape[0]),
        "tokens": int(ids.shape[1]),
        "layers": int(a1.shape[1]),
        "heads": int(a1.shape[2]),
        "eps": args.eps,
        "sink1_pct": 100.0 * float((a1 > args.eps).double().mean()),
        "alpha1": a1.mean(dim=0).double().tolist(),
        "massive": massive,
        "dtype": "float64" if args.float64 else "float32",
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("%s: Sink_1 %.2f%% (eps %g) over %d sequences x %d layers x %d heads" % (
        family, summary["sink1_pct"], args.eps, summary["sequences"], summary["layers"], summary["heads"]))


if __name__ == "__main__":
    main()
