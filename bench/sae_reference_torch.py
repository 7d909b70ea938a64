"""PyTorch reference for bench/sae.ts: a TopK transcoder training step at the same shapes
(encode, top-k, decode, MSE summed over d_out and averaged over tokens, backward, Adam, decoder
rows renormalised), on random activations. Prints tokens per second of training steps as JSON."""
import json, sys, time
import torch

d_in, d_sae, d_out, k, batch, steps = (int(x) for x in sys.argv[1:7])
torch.manual_seed(0)
torch.set_num_threads(int(sys.argv[7]) if len(sys.argv) > 7 else torch.get_num_threads())
W_enc = (torch.randn(d_in, d_sae) / d_in**0.5).requires_grad_()
W_dec = torch.nn.functional.normalize(torch.randn(d_sae, d_out), dim=1).requires_grad_()
b_enc = torch.zeros(d_sae, requires_grad=True)
b_dec = torch.zeros(d_out, requires_grad=True)
opt = torch.optim.Adam([W_enc, W_dec, b_enc, b_dec], lr=1e-3, betas=(0.9, 0.999))
x = torch.randn(batch, d_in)
y = torch.randn(batch, d_out)

def step():
    pre = x @ W_enc + b_enc
    vals, idx = pre.topk(k, dim=-1)
    f = torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
    loss = ((f @ W_dec + b_dec - y) ** 2).sum(-1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        W_dec.div_(W_dec.norm(dim=1, keepdim=True))

for _ in range(3):
    step()
t = time.perf_counter()
for _ in range(steps):
    step()
dt = (time.perf_counter() - t) / steps
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "step_seconds": dt, "tokens_per_second": batch / dt}))
