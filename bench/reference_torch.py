"""PyTorch CPU reference for bench/run.ts: the same GPT-2-small-shaped model and measurements.

Spawned by the bench as `/usr/bin/python3 bench/reference_torch.py '<json config>'` with
OPENBLAS_NUM_THREADS=2; torch itself runs one thread (ENGINE-NOTES.md: letting torch's and
OpenBLAS's threads both take the 2 cores made the forward ~3.5x slower). Prints one JSON object.

The model is written out here (no transformers dependency): GPT-2 blocks with random N(0, 0.02)
weights, tied unembedding, gelu_new, pre-LayerNorm; logits over the full vocabulary.
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
RUNS, WARMUP = cfg["runs"], cfg["warmup"]
g = torch.Generator().manual_seed(0)


def rnd(*shape):
    return torch.randn(*shape, generator=g) * 0.02


P = {"wte": rnd(V, D), "wpe": rnd(NCTX, D), "lnf_w": torch.ones(D), "lnf_b": torch.zeros(D)}
for l in range(L):
    P.update({
        f"{l}.ln1_w": torch.ones(D), f"{l}.ln1_b": torch.zeros(D),
        f"{l}.W_qkv": rnd(D, 3 * D), f"{l}.b_qkv": torch.zeros(3 * D),
        f"{l}.W_O": rnd(D, D), f"{l}.b_O": torch.zeros(D),
        f"{l}.ln2_w": torch.ones(D), f"{l}.ln2_b": torch.zeros(D),
        f"{l}.W_in": rnd(D, F), f"{l}.b_in": torch.zeros(F),
        f"{l}.W_out": rnd(F, D), f"{l}.b_out": torch.zeros(D),
    })


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def forward(ids, W_out6=None, past=None):
    """ids [B, T] -> logits [B, T, V]; `past` is a list of (k, v) per layer, extended in place."""
    B, T = ids.shape
    start = 0 if past is None or past[0] is None else past[0][0].shape[2]
    x = P["wte"][ids] + P["wpe"][start:start + T]
    for l in range(L):
        h = torch.nn.functional.layer_norm(x, (D,), P[f"{l}.ln1_w"], P[f"{l}.ln1_b"], 1e-5)
        q, k, v = (h @ P[f"{l}.W_qkv"] + P[f"{l}.b_qkv"]).split(D, dim=-1)
        q, k, v = (t.view(B, T, H, DH).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            if past[l] is not None:
                k = torch.cat([past[l][0], k], dim=2)
                v = torch.cat([past[l][1], v], dim=2)
            past[l] = (k, v)
        S = k.shape[2]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(DH)
        causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        z = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + z @ P[f"{l}.W_O"] + P[f"{l}.b_O"]
        h = torch.nn.functional.layer_norm(x, (D,), P[f"{l}.ln2_w"], P[f"{l}.ln2_b"], 1e-5)
        W = W_out6 if (l == 6 and W_out6 is not None) else P[f"{l}.W_out"]
        x = x + gelu_new(h @ P[f"{l}.W_in"] + P[f"{l}.b_in"]) @ W + P[f"{l}.b_out"]
    x = torch.nn.functional.layer_norm(x, (D,), P["lnf_w"], P["lnf_b"], 1e-5)
    return x @ P["wte"].T


def median_ms(fn):
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2]


def tokens(T, seed):
    return torch.randint(0, V, (1, T), generator=torch.Generator().manual_seed(seed))


out = {"torch": torch.__version__, "threads": torch.get_num_threads()}

a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
ms = median_ms(lambda: a @ b)
out["matmul_gflops"] = 2 * 1024 ** 3 / (ms / 1000) / 1e9

with torch.no_grad():
    for T in cfg["seqLens"]:
        ids = tokens(T, T)
        out[f"forward_{T}_ms"] = median_ms(lambda: forward(ids))

ids = tokens(cfg["gradSeqLen"], 1)


def fwd_bwd():
    W = P["6.W_out"].clone().requires_grad_(True)
    logits = forward(ids[:, :-1], W_out6=W)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
    loss.backward()
    return W.grad


out["fwd_bwd_ms"] = median_ms(fwd_bwd)

prompt = tokens(cfg["genPrompt"], 2)


def greedy():
    with torch.no_grad():
        past = [None] * L
        logits = forward(prompt, past=past)
        for _ in range(cfg["genNew"] - 1):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            logits = forward(nxt, past=past)


gen_ms = median_ms(greedy)
out["generate_tok_s"] = cfg["genNew"] / (gen_ms / 1000)
# Scoring: EVAL_REQ requests of 64 tokens (48 context + 16 continuation), 8 per batch, as
# loglikelihood batches them: forward the 63 input tokens, log-softmax, gather the continuation.
EV = cfg["evalRequests"]
ev_ids = torch.randint(0, V, (EV, 64), generator=torch.Generator().manual_seed(5))


def score():
    with torch.no_grad():
        for s in range(0, EV, 8):
            rows = ev_ids[s:s + 8]
            lp = forward(rows[:, :-1]).log_softmax(-1)
            lp[:, 47:].gather(-1, rows[:, 48:, None]).sum()


out["eval_req_s"] = EV / (median_ms(score) / 1000)

# Covariance statistics: the MLP keys of layer COV_LAYER (gelu output, the input of W_out) for
# 8 rows of 64 tokens, and their Gram matrix XᵀX, as edit/covariance.ts collects them.
CL = cfg["covLayer"]
cov_ids = torch.randint(0, V, (8, 64), generator=torch.Generator().manual_seed(6))


def keys():
    with torch.no_grad():
        B, T = cov_ids.shape
        x = P["wte"][cov_ids] + P["wpe"][:T]
        for l in range(CL + 1):
            h = torch.nn.functional.layer_norm(x, (D,), P[f"{l}.ln1_w"], P[f"{l}.ln1_b"], 1e-5)
            q, k, v = (h @ P[f"{l}.W_qkv"] + P[f"{l}.b_qkv"]).split(D, dim=-1)
            q, k, v = (t.view(B, T, H, DH).transpose(1, 2) for t in (q, k, v))
            att = ((q @ k.transpose(-1, -2)) / math.sqrt(DH)).masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")).softmax(-1)
            x = x + (att @ v).transpose(1, 2).reshape(B, T, D) @ P[f"{l}.W_O"] + P[f"{l}.b_O"]
            h = torch.nn.functional.layer_norm(x, (D,), P[f"{l}.ln2_w"], P[f"{l}.ln2_b"], 1e-5)
            post = gelu_new(h @ P[f"{l}.W_in"] + P[f"{l}.b_in"])
            if l == CL:
                X = post.reshape(-1, F)
                return X.T @ X
            x = x + post @ P[f"{l}.W_out"] + P[f"{l}.b_out"]


out["cov_tok_s"] = cov_ids.numel() / (median_ms(keys) / 1000)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
