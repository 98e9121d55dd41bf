#!/usr/bin/env python3
"""Independent PyTorch re-implementation of compiler/model, for TestAgainstPyTorch.

Usage: torch_check.py DIR
DIR holds config.json (config.Model + config.Train as JSON, plus "steps_to_run"),
tokens.bin (int32 rows of T+1 tokens, batch after batch) and a sinkrun checkpoint
(model.json + model.bin) of the initial weights. Prints one JSON line:
{"losses": [...], "grad_norms": [...]} from torch.optim.AdamW + clip_grad_norm_.
"""
import json, math, struct, sys
import torch, torch.nn.functional as F

torch.set_num_threads(2)
d = sys.argv[1]
cfg = json.load(open(f"{d}/config.json"))
mc, tc = cfg["model"], cfg["train"]
meta = json.load(open(f"{d}/model.json"))
raw = open(f"{d}/model.bin", "rb").read()
vals, off = {}, 0
for v in meta["variables"]:
    n = math.prod(v["dims"])
    vals[v["path"]] = torch.tensor(struct.unpack_from(f"<{n}f", raw, off), dtype=torch.float32).reshape(v["dims"])
    off += 4 * n
P = {k: torch.nn.Parameter(t.clone()) for k, t in vals.items() if not k.startswith("/adamw")}
order = [v["path"] for v in meta["variables"] if not v["path"].startswith("/adamw")]

D, H, L, V = mc["d_model"], mc["heads"], mc["layers"], mc["vocab"]
dh = mc["head_dim"] or D // H
eps = mc["norm"]["eps"]
B, T = cfg["batch"], cfg["T"]

def norm(x, s):
    if mc["norm"]["kind"] == "layernorm":
        return F.layer_norm(x, (D,), P[s + "/gain"], P[s + "/bias"], eps)
    return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps) * P[s + "/gain"]

inv = 1.0 / (mc["position"].get("base", 10000) ** (torch.arange(0, dh, 2).float() / dh))
f = torch.outer(torch.arange(T).float(), inv); f = torch.cat((f, f), -1)
cos, sin = f.cos(), f.sin()
def rope(x):
    x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin

mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
def attn(x, l):
    q, k, v = (x @ P[f"/layer_{l}/attn/wqkv"]).view(B, T, 3, H, dh).permute(2, 0, 3, 1, 4)
    if mc["position"]["kind"] == "rope":
        q, k = rope(q), rope(k)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
    a = mc["attention"]
    if a["op"] == "softmax":
        w = s.masked_fill(mask, float("-inf")).softmax(-1)
    else:
        w = torch.sigmoid(s).masked_fill(mask, 0.0)
        if a["z"] == "sum":
            w = w / (w.sum(-1, keepdim=True) + 1e-8)
    return (w @ v).transpose(1, 2).reshape(B, T, H * dh) @ P[f"/layer_{l}/attn/wo"]

acts = {"relu": F.relu, "gelu": F.gelu, "swish": F.silu, "swiglu": F.silu, "geglu": F.gelu, "reglu": F.relu}
def ffn(x, l):
    kind = mc["ffn"]["kind"]
    h = x @ P[f"/layer_{l}/ffn/w1"]
    if kind in ("swiglu", "geglu", "reglu"):
        g, u = h.chunk(2, -1)
        h = acts[kind](g) * u
    else:
        h = acts[kind](h)
    return h @ P[f"/layer_{l}/ffn/w2"].t()

def forward(idx):
    x = P["/embed"][idx]
    post = mc["norm"]["placement"] == "post"
    for l in range(L):
        if post:
            x = norm(x + attn(x, l), f"/layer_{l}/norm1")
            x = norm(x + ffn(x, l), f"/layer_{l}/norm2")
        else:
            x = x + attn(norm(x, f"/layer_{l}/norm1"), l)
            x = x + ffn(norm(x, f"/layer_{l}/norm2"), l)
    if not post:
        x = norm(x, "/final_norm")
    return x @ (P["/embed"].t() if mc["tied"] else P["/head"])

o = tc["optimizer"]
params = [P[k] for k in order]
opt = torch.optim.AdamW(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weight_decay"])
toks = torch.tensor(struct.unpack(f"<{(cfg['steps_to_run']) * B * (T + 1)}i", open(f"{d}/tokens.bin", "rb").read())).reshape(-1, B, T + 1).long()
losses, gns = [], []
for step in range(cfg["steps_to_run"]):
    for g in opt.param_groups:
        g["lr"] = cfg["lrs"][step]
    data = toks[step]
    logits = forward(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), data[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True); loss.backward()
    if o["clip"] > 0:
        gn = torch.nn.utils.clip_grad_norm_(params, o["clip"])
    else:
        gn = torch.norm(torch.stack([p.grad.norm() for p in params]))
    opt.step()
    losses.append(loss.item()); gns.append(float(gn))
print(json.dumps({"losses": losses, "grad_norms": gns}))
