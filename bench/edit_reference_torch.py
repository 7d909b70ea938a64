"""PyTorch CPU reference for bench/edit.ts: the editors' primitive operations at the same shapes.

Spawned as `/usr/bin/python3 bench/edit_reference_torch.py '<json>'` with OPENBLAS_NUM_THREADS=2
and one torch thread (ENGINE-NOTES.md). Times, on a GPT-2-small-shaped model with random weights:
  - covariance: forward through the layer's MLP for the corpus sample, float64 Gram of its keys;
  - Cholesky factor of C (float64, d_mlp × d_mlp) and one solve;
  - a v* / z* step: forward + backward w.r.t. a vector added at the subject token, at the bench's
    batch shape (ROME: at the MLP output of its layer; MEMIT: at the last edited layer's residual),
    times the number of steps; plus the keys' forward;
  - MEMIT's layer phase: keys' forward over all requests × templates, λC + KKᵀ and a float64 solve
    with one right-hand side per request, per layer.
Each primitive is the median of 3 runs after 1 warm-up; the edit totals combine them with the same
counts the jax-js run executes. Prints one JSON object.
"""
import json
import math
import resource
import sys
import time

import torch

torch.set_num_threads(1)
cfg = json.loads(sys.argv[1])
L, D, H, F, V, NCTX = cfg["nLayers"], cfg["dModel"], cfg["nHeads"], cfg["dMlp"], cfg["vocab"], cfg["nCtx"]
DH = D // H
g = torch.Generator().manual_seed(0)


def rnd(*shape):
    return torch.randn(*shape, generator=g) * 0.02


P = {"wte": rnd(V, D), "wpe": rnd(NCTX, D)}
for l in range(L):
    P.update({f"{l}.W_qkv": rnd(D, 3 * D), f"{l}.W_O": rnd(D, D), f"{l}.W_in": rnd(D, F), f"{l}.W_out": rnd(F, D)})


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def ln(x):
    return torch.nn.functional.layer_norm(x, (D,))


def forward(ids, upto=L, add_at=None, delta=None, pos=None, want_keys=None):
    """GPT-2 blocks; add `delta` at (layer, "mlp_out"|"resid") at token `pos`; return logits or keys."""
    B, T = ids.shape
    x = P["wte"][ids] + P["wpe"][:T]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for l in range(upto):
        h = ln(x)
        q, k, v = (h @ P[f"{l}.W_qkv"]).split(D, dim=-1)
        q, k, v = (t.view(B, T, H, DH).transpose(1, 2) for t in (q, k, v))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(DH) + mask, -1) @ v
        x = x + a.transpose(1, 2).reshape(B, T, D) @ P[f"{l}.W_O"]
        post = gelu_new(ln(x) @ P[f"{l}.W_in"])
        if want_keys == l:
            return post
        m = post @ P[f"{l}.W_out"]
        if add_at == (l, "mlp_out"):
            m = m + torch.zeros(B, T, 1).index_fill_(1, torch.tensor([pos]), 1.0) * delta
        x = x + m
        if add_at == (l, "resid"):
            x = x + torch.zeros(B, T, 1).index_fill_(1, torch.tensor([pos]), 1.0) * delta
    return ln(x) @ P["wte"].T


def median_ms(fn, runs=3, warmup=1):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    ts.sort()
    return ts[len(ts) // 2]


def ids(B, T):
    return torch.randint(0, 5000, (B, T), generator=g)


out = {"torch": torch.__version__}
S = cfg["shapes"]

# Covariance over the corpus sample, batches of 8 texts.
layer = cfg["romeLayer"]
n_texts, T = cfg["covTexts"], cfg["covLen"]


def cov():
    C = torch.zeros(F, F, dtype=torch.float64)
    with torch.no_grad():
        for s in range(0, n_texts, 8):
            k = forward(ids(min(8, n_texts - s), T), upto=layer + 1, want_keys=layer).reshape(-1, F).double()
            C += k.T @ k
    return C


out["cov_ms_per_layer"] = median_ms(cov)
C = cov() / (n_texts * T) + 1e-3 * torch.eye(F, dtype=torch.float64)
out["cholesky_ms"] = median_ms(lambda: torch.cholesky_solve(torch.ones(F, 1, dtype=torch.float64), torch.linalg.cholesky(C)))


def step(shape, add_at):
    B, T = shape
    x = ids(B, T)
    delta = torch.zeros(D, requires_grad=True)

    def run():
        logits = forward(x, add_at=add_at, delta=delta, pos=T // 2)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), x.reshape(-1))
        loss.backward()
        delta.grad = None

    return median_ms(run)


def keys_forward(shape, l, batch=16):
    B, T = shape

    def run():
        with torch.no_grad():
            for s in range(0, B, batch):
                forward(ids(min(batch, B - s), T), upto=l + 1, want_keys=l)

    return median_ms(run, runs=1)


steps = cfg["vSteps"]
out["rome_ms"] = steps * step(S["rome_v"], (layer, "mlp_out")) + keys_forward(S["rome_k"], layer)
z_layer = cfg["memitLayers"][-1]
out["memit_z_ms_per_request"] = steps * step(S["memit_z"], (z_layer, "resid"))
n = cfg["nEdits"]


def solve():
    K = torch.randn(F, n, dtype=torch.float64, generator=g)
    R = torch.randn(D, n, dtype=torch.float64, generator=g)
    adj = torch.linalg.solve(15000 * C + K @ K.T, K)
    return R @ adj.T


layer_ms = 0.0
for l in cfg["memitLayers"]:
    layer_ms += keys_forward(S["memit_k"], l) + median_ms(solve)
out["memit_layers_ms"] = layer_ms
out["memit_total_ms"] = out["memit_z_ms_per_request"] * n + layer_ms
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
