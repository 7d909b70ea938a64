#!/usr/bin/python3
"""Golden numbers for scalpel's TPE Parzen estimator, made by Optuna's own code.

For each Optuna version given (git revisions of the optuna repository), exports optuna/ from that
revision, imports optuna.samplers._tpe.parzen_estimator directly (the package __init__ files are
replaced by empty ones, so nothing else of Optuna — storages, SQLAlchemy — is imported), and
evaluates _ParzenEstimator with TPESampler's univariate defaults (prior_weight 1.0,
consider_magic_clip True, consider_endpoints False, weights = default_weights, multivariate False)
on the cases below: kernel means, bandwidths and mixture weights per parameter, and log_pdf at a
few points. Writes test/fixtures/optuna-golden.json.

Setup (Debian):  apt-get install -y python3-numpy
Usage:           /usr/bin/python3 scripts/optuna-golden/make-golden.py OPTUNA_GIT [REV ...]
                 (default revisions: v4.6.0 v4.8.0 v4.9.0 HEAD — the last release with the
                 continuous log-int kernel, scalpel's default, the first without the prior mean
                 in the bandwidth rule, and the mirror's 5.0.0.dev)
"""
import ast
import importlib
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "optuna-golden.json")

# (name, observations, space, points); space entries: ("float"|"int", low, high, step|None, log) or ("cat", n_choices)
O30 = [round(-5 + 10 * ((i * 7919) % 997) / 997, 3) for i in range(30)]
CASES = [
    ("continuous", {"x": [1.0, 3.0]}, {"x": ("float", 0, 10, None, False)}, {"x": [0.5, 2.0, 7.5]}),
    ("int", {"n": [1, 2]}, {"n": ("int", 0, 4, 1, False)}, {"n": [0, 2, 4]}),
    ("log float", {"x": [0.01, 0.1, 0.003, 0.5, 0.02]}, {"x": ("float", 1e-3, 1, None, True)}, {"x": [0.002, 0.05, 0.9]}),
    ("float with step", {"s": [0.5, 1.5, 0.25, 2.0]}, {"s": ("float", 0, 2, 0.25, False)}, {"s": [0, 0.75, 2.0]}),
    ("log int", {"k": [1, 10, 100, 3]}, {"k": ("int", 1, 1000, 1, True)}, {"k": [1, 7, 500]}),
    ("product of float and categorical", {"x": [1.0, 3.0], "c": [1, 0]}, {"x": ("float", 0, 10, None, False), "c": ("cat", 2)}, {"x": [2.0, 8.0], "c": [0, 1]}),
    ("no observations (prior only)", {"x": []}, {"x": ("float", 0, 10, None, False)}, {"x": [2.0]}),
    ("30 observations (weight ramp)", {"x": O30}, {"x": ("float", -5, 5, None, False)}, {"x": [-4.0, 0.0, 2.5]}),
    ("categorical", {"c": [0, 0, 2]}, {"c": ("cat", 3)}, {"c": [0, 1, 2]}),
    # One observation: 3 sorted points without the prior mean (≥ 4.9), so consider_endpoints=False
    # does not apply there; 4 with it (≤ 4.8).
    ("single observation", {"x": [7.0]}, {"x": ("float", 0, 10, None, False)}, {"x": [1.0, 7.0, 9.5]}),
    # Ties (repeated ints) and the magic clip's lower bound (clustered observations).
    ("ties and clip", {"n": [3, 3, 4, 3, 20]}, {"n": ("int", 0, 50, 1, False)}, {"n": [0, 3, 4, 20, 50]}),
    ("log int ties", {"k": [2, 2, 3, 64, 2, 1]}, {"k": ("int", 1, 64, 1, True)}, {"k": [1, 2, 3, 10, 64]}),
    ("int with step 2", {"n": [2, 6, 10]}, {"n": ("int", 0, 10, 2, False)}, {"n": [0, 4, 10]}),
]


def load(git_dir, rev):
    for m in [m for m in sys.modules if m == "optuna" or m.startswith("optuna.")]:
        del sys.modules[m]
    out = tempfile.mkdtemp(prefix="optuna-")
    commit = subprocess.check_output(["git", "--git-dir", git_dir, "rev-parse", rev], text=True).strip()
    tar = subprocess.run(["git", "--git-dir", git_dir, "archive", commit, "optuna"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", out], input=tar, check=True)
    version = {}
    exec(open(os.path.join(out, "optuna", "version.py")).read(), version)
    for init in ["optuna/__init__.py", "optuna/samplers/__init__.py", "optuna/samplers/_tpe/__init__.py"]:
        open(os.path.join(out, init), "w").close()
    sys.path.insert(0, out)
    pe = importlib.import_module("optuna.samplers._tpe.parzen_estimator")
    dist = importlib.import_module("optuna.distributions")
    # default_weights from sampler.py (that module imports the rest of Optuna), taken as written.
    tree = ast.parse(open(os.path.join(out, "optuna", "samplers", "_tpe", "sampler.py")).read())
    fn = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "default_weights")
    ns = {"np": np}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "sampler.py", "exec"), ns)
    sys.path.remove(out)
    return pe, dist, ns["default_weights"], commit, version["__version__"]


def distribution(dist, spec):
    if spec[0] == "cat":
        return dist.CategoricalDistribution(list(range(spec[1])))
    kind, low, high, step, log = spec
    if kind == "int":
        return dist.IntDistribution(low, high, log=log, step=step or 1)
    return dist.FloatDistribution(low, high, log=log, step=step)


def main():
    git_dir = sys.argv[1]
    revs = sys.argv[2:] or ["v4.6.0", "v4.8.0", "v4.9.0", "HEAD"]
    versions = []
    for rev in revs:
        pe, dist, default_weights, commit, version = load(git_dir, rev)
        fields = pe._ParzenEstimatorParameters._fields
        extra = {"categorical_distance_func": {}} if "categorical_distance_func" in fields else {}  # ≤ 4.x: none given
        params = pe._ParzenEstimatorParameters(prior_weight=1.0, consider_magic_clip=True, consider_endpoints=False, weights=default_weights, multivariate=False, **extra)
        cases = []
        for name, obs, space, points in CASES:
            ss = {k: distribution(dist, v) for k, v in space.items()}
            est = pe._ParzenEstimator({k: np.asarray(v, dtype=float) for k, v in obs.items()}, ss, params)
            mix = est._mixture_distribution
            kernels = {}
            for i, k in enumerate(ss):
                d = mix.distributions[i]
                if hasattr(d, "mu"):
                    kernels[k] = {"mus": d.mu.tolist(), "sigmas": d.sigma.tolist()}
                else:
                    kernels[k] = {"probs": d.weights.tolist()}
            logpdf = est.log_pdf({k: np.asarray(v, dtype=float) for k, v in points.items()})
            cases.append({"name": name, "observations": obs, "space": {k: list(v) for k, v in space.items()}, "points": points, "weights": mix.weights.tolist(), "kernels": kernels, "log_pdf": logpdf.tolist()})
        versions.append({"optuna_version": version, "commit": commit, "revision": rev, "cases": cases})
        print(rev, version, commit, "ok", file=sys.stderr)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"numpy": np.__version__, "versions": versions}, f, indent=1)
        f.write("\n")
    os.replace(tmp, OUT)
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
