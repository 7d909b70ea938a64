#!/usr/bin/python3
"""Expected updates for scalpel's ROME / MEMIT / AlphaEdit reference-fixture tests, computed by
the reference implementations themselves: kmeng01/rome (rome_main.apply_rome_to_model),
kmeng01/memit (memit_main.apply_memit_to_model) and jianghoucheng/AlphaEdit
(AlphaEdit_main.apply_AlphaEdit_to_model + experiments/evaluate.py get_project).

Inputs: test/fixtures/reference-edits/{model/, inputs.json}, written by make-fixture.ts.
Output: test/fixtures/reference-edits/expected.safetensors (float64):
  logits                  the model's logits on inputs.json's probe sentence (forward parity)
  cov.<layer>             E[k kᵀ] of the MLP output projection's inputs (covariance parity)
  rome.<layer>            ΔW of c_proj after apply_rome_to_model on the ROME requests
  memit.<layer>           ΔW after apply_memit_to_model on all requests (one batch)
  alphaedit1.<layer>      ΔW after AlphaEdit's first batch
  alphaedit.<layer>       ΔW after both batches (cache_c carried over)
ΔW is in Conv1D layout [d_mlp, d_model], which is scalpel's W_out layout.

How the reference code is run, and what is replaced (nothing of the algorithms):
  - The repositories' own .py files are exported from their git history (no edits to the
    algorithms); textual substitutions only move tensors to the CPU ("cuda" -> "cpu") and keep
    float64 (".float()" / "dtype=torch.float," -> double), so the expected values carry no float32
    rounding. util/globals.py (reads globals.yml) is replaced by constants.
  - The model is a minimal PyTorch GPT-2 (below) with transformers' module names and Conv1D
    layouts, since transformers is not installable here; its forward is pinned against scalpel's
    (the `logits` tensor).
  - The tokenizer is a shim of the Hugging Face tokenizer API over the fixture's word-level vocab
    (whitespace split; decode writes each word with a leading space, as GPT-2's BPE does).
  - Covariance: layer_stats' data loading (Wikipedia download, random subset) is replaced by the
    fixture's texts; the statistic itself is the reference's (nethook.Trace at the module input,
    util/runningstats.SecondMoment).
  - MEMIT's covariance cache is filled from the unedited model before editing, as its statistics
    files are in the repository's runs (see the MEMIT section).
  - Context templates: get_context_templates returns inputs.json's fixed templates instead of
    sampling them (sampling cannot be reproduced across implementations).

Setup (Debian):  apt-get install -y python3-torch python3-numpy python3-yaml
Usage:           /usr/bin/python3 scripts/reference-edits/reference.py ROME_GIT MEMIT_GIT ALPHAEDIT_GIT
where each argument is a git directory of the repository (a clone's .git or a bare mirror); the
commit used is HEAD and is recorded in the output's metadata.
"""
import ast
import json
import math
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "test", "fixtures", "reference-edits")


# ---------------------------------------------------------------------------------------------
# safetensors without the safetensors package
def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", t["dtype"]
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(t["shape"]).astype(np.float64))
    return out


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        b = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f8")).tobytes()
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# A minimal GPT-2 with transformers' module names (modeling_gpt2.py: Conv1D y = x W + b, gelu_new,
# pre-LayerNorm blocks returning tuples, lm_head tied to wte).
class Conv1D(torch.nn.Module):
    def __init__(self, w, b):
        super().__init__()
        self.weight = torch.nn.Parameter(w.clone())
        self.bias = torch.nn.Parameter(b.clone())

    def forward(self, x):
        return x @ self.weight + self.bias


def layer_norm(w, b, eps):
    ln = torch.nn.LayerNorm(w.shape[0], eps=eps)
    ln.weight = torch.nn.Parameter(w.clone())
    ln.bias = torch.nn.Parameter(b.clone())
    return ln


class MLP(torch.nn.Module):
    def __init__(self, p, pre):
        super().__init__()
        self.c_fc = Conv1D(p[pre + "c_fc.weight"], p[pre + "c_fc.bias"])
        self.c_proj = Conv1D(p[pre + "c_proj.weight"], p[pre + "c_proj.bias"])

    def forward(self, x):
        h = self.c_fc(x)
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0))))
        return self.c_proj(h)


class Attention(torch.nn.Module):
    def __init__(self, p, pre, n_head):
        super().__init__()
        self.c_attn = Conv1D(p[pre + "c_attn.weight"], p[pre + "c_attn.bias"])
        self.c_proj = Conv1D(p[pre + "c_proj.weight"], p[pre + "c_proj.bias"])
        self.n_head = n_head

    def forward(self, x):
        B, T, D = x.shape
        hd = D // self.n_head
        q, k, v = self.c_attn(x).split(D, dim=2)
        q, k, v = (t.view(B, T, self.n_head, hd).transpose(1, 2) for t in (q, k, v))
        w = q @ k.transpose(-1, -2) / math.sqrt(hd)
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        a = torch.softmax(w, dim=-1) @ v
        return self.c_proj(a.transpose(1, 2).reshape(B, T, D))


class Block(torch.nn.Module):
    def __init__(self, p, i, cfg):
        super().__init__()
        pre = f"h.{i}."
        eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.ln_1 = layer_norm(p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
        self.attn = Attention(p, pre + "attn.", cfg["n_head"])
        self.ln_2 = layer_norm(p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
        self.mlp = MLP(p, pre + "mlp.")

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return (x,)


class Transformer(torch.nn.Module):
    def __init__(self, p, cfg):
        super().__init__()
        self.wte = torch.nn.Embedding.from_pretrained(p["wte.weight"].clone(), freeze=False)
        self.wpe = torch.nn.Embedding.from_pretrained(p["wpe.weight"].clone(), freeze=False)
        self.h = torch.nn.ModuleList([Block(p, i, cfg) for i in range(cfg["n_layer"])])
        self.ln_f = layer_norm(p["ln_f.weight"], p["ln_f.bias"], cfg.get("layer_norm_epsilon", 1e-5))


class Output:
    def __init__(self, logits):
        self.logits = logits


class GPT2(torch.nn.Module):
    def __init__(self, folder):
        super().__init__()
        cfg = json.load(open(os.path.join(folder, "config.json")))
        p = {k[len("transformer."):] if k.startswith("transformer.") else k: v for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
        self.transformer = Transformer(p, cfg)
        self.config = types.SimpleNamespace(n_embd=cfg["n_embd"], vocab_size=cfg["vocab_size"], n_positions=cfg["n_positions"], _name_or_path="scalpel-reference-fixture")

    def forward(self, input_ids, attention_mask=None, **_):
        # Right padding only (as every caller here pads): causal attention never sees the pads after a
        # real token, so the mask changes nothing for real positions.
        t = self.transformer
        x = t.wte(input_ids) + t.wpe(torch.arange(input_ids.shape[1]))
        for block in t.h:
            x = block(x)[0]
        return Output(t.ln_f(x) @ t.wte.weight.T)


# ---------------------------------------------------------------------------------------------
class Encoding(dict):
    """BatchEncoding's surface: a dict with .to(device); indexing by int/slice gives token lists."""

    def __init__(self, data, seqs):
        super().__init__(data)
        self.seqs = seqs

    def to(self, _device):
        return self

    def __getitem__(self, k):
        return self.seqs[k] if isinstance(k, (int, slice)) else dict.__getitem__(self, k)


class Tokenizer:
    """The Hugging Face tokenizer calls the reference code makes, over a word-level vocabulary."""

    def __init__(self, folder):
        j = json.load(open(os.path.join(folder, "tokenizer.json")))
        self.vocab = dict(j["model"]["vocab"])
        self.words = {i: w for w, i in self.vocab.items()}
        self.unk_token_id = self.vocab[j["model"]["unk_token"]]
        self.eos_token = "<|endoftext|>"
        self.eos_token_id = self.pad_token_id = self.vocab[self.eos_token]
        self.bos_token_id = None
        self.padding_side = "right"

    def encode(self, text, truncation=False, max_length=None, **_):
        ids = [self.vocab.get(w, self.unk_token_id) for w in text.split()]
        return ids[:max_length] if truncation and max_length else ids

    def __call__(self, texts, return_tensors=None, padding=False, **kw):
        single = isinstance(texts, str)
        seqs = [self.encode(t, **kw) for t in ([texts] if single else texts)]
        if return_tensors == "pt":
            T = max(len(s) for s in seqs)
            ids = torch.tensor([s + [self.pad_token_id] * (T - len(s)) for s in seqs])
            mask = torch.tensor([[1] * len(s) + [0] * (T - len(s)) for s in seqs])
            return Encoding({"input_ids": ids, "attention_mask": mask}, seqs)
        if single:
            return Encoding({"input_ids": seqs[0], "attention_mask": [1] * len(seqs[0])}, seqs[0])
        return Encoding({"input_ids": seqs, "attention_mask": [[1] * len(s) for s in seqs]}, seqs)

    def decode(self, ids):
        if torch.is_tensor(ids):
            ids = ids.tolist()
        if isinstance(ids, int):
            ids = [ids]
        return "".join(" " + self.words[i] for i in ids)


# ---------------------------------------------------------------------------------------------
STUBS = {
    "transformers": {"AutoModelForCausalLM": object, "AutoTokenizer": object, "__path__": []},
    "transformers.models": {"__path__": []},
    "transformers.models.gptj": {"__path__": []},
    "transformers.models.gptj.modeling_gptj": {"GPTJForCausalLM": type("GPTJForCausalLM", (), {})},
    "matplotlib": {},
    "matplotlib.style": {"context": None},
    "datasets": {"load_dataset": None},
    "tqdm": {},
    "tqdm.auto": {"tqdm": lambda x, **_: x},
}
GLOBALS_PY = 'from pathlib import Path\nRESULTS_DIR = DATA_DIR = STATS_DIR = HPARAMS_DIR = KV_DIR = Path("/nonexistent")\nREMOTE_ROOT_URL = ""\n'
PACKAGES = ("rome", "util", "memit", "AlphaEdit")


def export(git_dir, dirs):
    """The repository's HEAD files under `dirs`, with the CPU / float64 substitutions, in a temp folder."""
    out = tempfile.mkdtemp(prefix="scalpel-ref-")
    commit = subprocess.check_output(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], text=True).strip()
    names = subprocess.check_output(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", commit, *dirs], text=True).split()
    for name in names:
        if not name.endswith(".py"):
            continue
        src = subprocess.check_output(["git", "--git-dir", git_dir, "show", f"{commit}:{name}"], text=True)
        src = src.replace('"cuda"', '"cpu"').replace(".cuda()", ".cpu()").replace(".float()", ".double()").replace("dtype=torch.float,", "dtype=torch.double,")
        if name == "util/globals.py":
            src = GLOBALS_PY
        dst = os.path.join(out, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "w").write(src)
    return out, commit


def load_reference(git_dir, dirs):
    for m in [m for m in sys.modules if m.split(".")[0] in PACKAGES + ("experiments",)]:
        del sys.modules[m]
    for name, attrs in STUBS.items():
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
    folder, commit = export(git_dir, dirs)
    sys.path.insert(0, folder)
    return folder, commit


def fixture_layer_stats(texts, max_length):
    """layer_stats over the fixture's texts: the reference's Trace and SecondMoment, no download."""
    from util.nethook import Trace
    from util.runningstats import CombinedStat, SecondMoment

    def layer_stats(model, tokenizer, layer_name, stats_dir, ds_name, to_collect, sample_size=None, **_):
        stat = CombinedStat(mom2=SecondMoment())
        with torch.no_grad():
            for text in texts[:sample_size]:
                ids = torch.tensor([tokenizer.encode(text, truncation=True, max_length=max_length)])
                with Trace(model, layer_name, retain_input=True, retain_output=False, stop=True) as tr:
                    model(input_ids=ids)
                stat.add(tr.input[0].to(torch.float64))
        return stat

    return layer_stats


def weight(model, layer):
    return model.transformer.h[layer].mlp.c_proj.weight.detach().clone()


def module_hparams(cls, values, n_samples, extra=()):
    fields = dict(
        rewrite_module_tmp="transformer.h.{}.mlp.c_proj", layer_module_tmp="transformer.h.{}", mlp_module_tmp="transformer.h.{}.mlp",
        attn_module_tmp="transformer.h.{}.attn", ln_f_module="transformer.ln_f", lm_head_module="transformer.wte",
        mom2_dataset="fixture", mom2_n_samples=n_samples, mom2_dtype="float64",
    )
    fields.update(values)
    fields.update(dict(extra))
    names = {f for f in cls.__dataclass_fields__}
    return cls(**{k: v for k, v in fields.items() if k in names})


def main():
    rome_git, memit_git, alpha_git = sys.argv[1:4]
    inp = json.load(open(os.path.join(FIX, "inputs.json")))
    folder = os.path.join(FIX, "model")
    tok = Tokenizer(folder)
    texts, max_len = inp["covariance_texts"], inp["covariance_max_length"]
    n = len(texts)
    groups = inp["context_templates"]
    flat = [t for g in groups for t in g]
    out, meta = {}, {}

    # --- ROME -----------------------------------------------------------------------------------
    _, meta["rome_commit"] = load_reference(rome_git, ["rome", "util"])
    import rome.compute_u
    import rome.rome_main
    from rome.rome_hparams import ROMEHyperParams
    from util.nethook import Trace

    model = GPT2(folder)
    probe = tok(inp["requests"][0]["prompt"].format(inp["requests"][0]["subject"]) + " Kelmar and the", return_tensors="pt")
    out["logits"] = model(**probe).logits[0].detach()
    layer_stats = fixture_layer_stats(texts, max_len)
    for layer in range(len(model.transformer.h)):
        out[f"cov.{layer}"] = layer_stats(model, tok, f"transformer.h.{layer}.mlp.c_proj", None, None, ["mom2"], n).mom2.moment()
    rome.compute_u.layer_stats = layer_stats
    rome.rome_main.get_context_templates = lambda *_: flat
    hp = module_hparams(ROMEHyperParams, inp["rome"], n, {"context_template_length_params": []})
    before = {l: weight(model, l) for l in hp.layers}
    rome.rome_main.apply_rome_to_model(model, tok, [inp["requests"][i] for i in inp["rome_requests"]], hp)
    for l in hp.layers:
        out[f"rome.{l}"] = weight(model, l) - before[l]

    # --- MEMIT ----------------------------------------------------------------------------------
    _, meta["memit_commit"] = load_reference(memit_git, ["rome", "util", "memit"])
    import memit.memit_main
    from memit.memit_hparams import MEMITHyperParams

    model = GPT2(folder)
    memit.memit_main.layer_stats = fixture_layer_stats(texts, max_len)
    memit.memit_main.get_context_templates = lambda *_: groups
    hp = module_hparams(MEMITHyperParams, inp["memit"], n, {"layer_selection": "all"})
    # In the repository's runs every layer's statistics come from files computed on (or downloaded
    # for) the unedited model; computed in-process instead, get_cov would measure layer 1 on the
    # model whose layer 0 execute_memit has already updated. Filling its cache first, from the
    # unedited model, reproduces the file-backed behaviour.
    for l in hp.layers:
        memit.memit_main.get_cov(model, tok, hp.rewrite_module_tmp.format(l), hp.mom2_dataset, hp.mom2_n_samples, hp.mom2_dtype)
    before = {l: weight(model, l) for l in hp.layers}
    memit.memit_main.apply_memit_to_model(model, tok, inp["requests"], hp)
    for l in hp.layers:
        out[f"memit.{l}"] = weight(model, l) - before[l]

    # --- AlphaEdit ------------------------------------------------------------------------------
    folder_a, meta["alphaedit_commit"] = load_reference(alpha_git, ["rome", "util", "AlphaEdit", "experiments/evaluate.py"])
    import AlphaEdit.AlphaEdit_main as alpha
    from AlphaEdit.AlphaEdit_hparams import AlphaEditHyperParams

    # get_project as experiments/evaluate.py defines it (that module's other imports need the
    # benchmark datasets, so only this function is taken from it).
    tree = ast.parse(open(os.path.join(folder_a, "experiments", "evaluate.py")).read())
    fn = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "get_project")
    ns = {"torch": torch, "get_cov": alpha.get_cov}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "evaluate.py", "exec"), ns)
    model = GPT2(folder)
    alpha.layer_stats = fixture_layer_stats(texts, max_len)
    alpha.get_context_templates = lambda *_: groups
    hp = module_hparams(AlphaEditHyperParams, inp["alphaedit"], n, {"model_name": "gpt2-xl", "layer_selection": "all"})
    d = model.transformer.h[0].mlp.c_proj.weight.shape[0]
    # evaluate.py's setup for gpt2-xl: cache_c and P of [layers, W_out.shape[0], W_out.shape[0]].
    cache_c = torch.zeros((len(hp.layers), d, d))
    P = torch.zeros((len(hp.layers), d, d))
    for i, layer in enumerate(hp.layers):
        P[i, :, :] = ns["get_project"](model, tok, layer, hp)
    meta["alphaedit_null_space_ranks"] = json.dumps([int(round(torch.trace(P[i]).item())) for i in range(len(hp.layers))])
    before = {l: weight(model, l) for l in hp.layers}
    for b, batch in enumerate(inp["alphaedit_batches"]):
        model, cache_c = alpha.apply_AlphaEdit_to_model(model, tok, [dict(inp["requests"][i], case_id=i) for i in batch], hp, cache_c=cache_c, P=P)
        for l in hp.layers:
            out[f"alphaedit{'' if b == len(inp['alphaedit_batches']) - 1 else b + 1}.{l}"] = weight(model, l) - before[l]

    meta["torch"] = torch.__version__
    write_safetensors(os.path.join(FIX, "expected.safetensors"), out, meta)
    print("wrote", os.path.join(FIX, "expected.safetensors"), {k: list(v.shape) for k, v in out.items()}, meta)


if __name__ == "__main__":
    main()
