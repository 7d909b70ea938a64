/** SAELens folders and Gemma Scope params.npz → Dictionary (src/sae/formats.ts, formats-node.ts). */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { CheckpointError, ConfigError, type ScalpelError } from "../../src/errors.js";
import { writeSafetensors } from "../../src/io/safetensors-file.js";
import type { HostTensor } from "../../src/io/host-tensor.js";
import type { Dictionary } from "../../src/sae/dictionary.js";
import { loadGemmaScopeNpz, loadSaeLens, saveSaeLens } from "../../src/sae/formats-node.js";
import { rejectsWith, tempDir } from "../io/checkpoint-helpers.js";
import { npzF32 } from "../io/npz-fixture.js";

/** Deterministic, exactly representable test numbers. */
const f32 = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7 + seed * 13) % 23) / 8 - 1.375);
const arr = (shape: number[], seed: number) => ({ shape, data: f32(shape.reduce((a, b) => a * b, 1), seed) });
const host = (a: { shape: number[]; data: Float32Array }): HostTensor => ({ dtype: "float32", ...a });

async function inTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = await tempDir();
  try {
    return await fn(dir);
  } finally {
    await cleanup();
  }
}

describe("Gemma Scope params.npz", () => {
  const params = (dOut = 4) => ({ W_enc: arr([4, 6], 1), W_dec: arr([6, dOut], 2), b_enc: arr([6], 3), b_dec: arr([dOut], 4), threshold: arr([6], 5) });

  for (const deflate of [false, true]) {
    it(`loads a JumpReLU SAE exactly (${deflate ? "compressed" : "stored"})`, () =>
      inTemp(async (dir) => {
        const file = path.join(dir, "params.npz");
        const p = params();
        writeFileSync(file, npzF32(p, deflate));
        const d = await loadGemmaScopeNpz(file, { hookIn: "blocks.3.hook_resid_post", kind: "sae" });
        assert.deepEqual(d, {
          kind: "sae",
          hookIn: "blocks.3.hook_resid_post",
          hookOut: "blocks.3.hook_resid_post",
          dIn: 4,
          dSae: 6,
          dOut: 4,
          activation: { type: "jumprelu" },
          ...p,
          info: { source: "gemma-scope" },
        });
        assert.equal(d.b_in, undefined, "Gemma Scope does not subtract b_dec from the input");
      }));
  }

  it("loads a transcoder, d_out from W_dec, lower-case w_ names too", () =>
    inTemp(async (dir) => {
      const file = path.join(dir, "params.npz");
      const { W_enc, W_dec, ...rest } = params(5);
      writeFileSync(file, npzF32({ w_enc: W_enc, w_dec: W_dec, ...rest }));
      const d = await loadGemmaScopeNpz(file, { hookIn: "blocks.2.ln2.hook_normalized", hookOut: "blocks.2.hook_mlp_out", kind: "transcoder" });
      assert.equal(d.kind, "transcoder");
      assert.equal(d.hookOut, "blocks.2.hook_mlp_out");
      assert.deepEqual([d.dIn, d.dSae, d.dOut], [4, 6, 5]);
      assert.deepEqual(d.W_enc, W_enc);
      assert.deepEqual(d.W_dec, W_dec);
    }));

  it("refuses missing, misshapen and unknown arrays, naming the file", () =>
    inTemp(async (dir) => {
      const file = path.join(dir, "params.npz");
      const opts = { hookIn: "blocks.0.hook_resid_post", kind: "sae" as const };
      const { threshold: _, ...noThreshold } = params();
      writeFileSync(file, npzF32(noThreshold));
      await rejectsWith(() => loadGemmaScopeNpz(file, opts), CheckpointError, "DICTIONARY_TENSOR_MISSING", file, ["threshold"]);
      writeFileSync(file, npzF32({ ...params(), b_enc: arr([5], 3) }));
      await rejectsWith(() => loadGemmaScopeNpz(file, opts), CheckpointError, "DICTIONARY_SHAPE", file, ["b_enc", "[5]", "[6]"]);
      writeFileSync(file, npzF32({ ...params(), W_skip: arr([4, 4], 9) }));
      await rejectsWith(() => loadGemmaScopeNpz(file, opts), CheckpointError, "DICTIONARY_TENSOR_UNKNOWN", file, ["W_skip"]);
      writeFileSync(file, npzF32(params(5)));
      await rejectsWith(() => loadGemmaScopeNpz(file, opts), CheckpointError, "DICTIONARY_SHAPE", file, ["d_in = d_out"]);
      await rejectsWith(() => loadGemmaScopeNpz(file, { hookIn: "blocks.0.hook_mlp_in", kind: "transcoder" }), ConfigError, "GEMMA_SCOPE_HOOK", file);
    }));
});

/** A SAELens folder written the way SAELens v6 writes one (with many keys scalpel ignores). */
async function saeLensFolder(dir: string, cfg: Record<string, unknown>, tensors: Record<string, { shape: number[]; data: Float32Array }>): Promise<void> {
  writeFileSync(path.join(dir, "cfg.json"), JSON.stringify(cfg));
  await writeSafetensors(path.join(dir, "sae_weights.safetensors"), Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, host(v)])));
}

const V6_CFG = {
  d_in: 4,
  d_sae: 6,
  dtype: "float32",
  device: "cpu",
  apply_b_dec_to_input: true,
  normalize_activations: "none",
  reshape_activations: "none",
  metadata: { model_name: "gpt2", hook_name: "blocks.1.hook_resid_pre", hook_layer: 1, hook_head_index: null, prepend_bos: true, context_size: 128, sae_lens_version: "6.5.0" },
  architecture: "standard",
};
const WEIGHTS = { W_enc: arr([4, 6], 1), W_dec: arr([6, 4], 2), b_enc: arr([6], 3), b_dec: arr([4], 4) };

describe("loadSaeLens", () => {
  it("a v6 standard SAE: ReLU, b_in = b_dec (apply_b_dec_to_input)", () =>
    inTemp(async (dir) => {
      await saeLensFolder(dir, V6_CFG, WEIGHTS);
      const d = await loadSaeLens(dir);
      assert.deepEqual(d, {
        kind: "sae",
        hookIn: "blocks.1.hook_resid_pre",
        hookOut: "blocks.1.hook_resid_pre",
        dIn: 4,
        dSae: 6,
        dOut: 4,
        activation: { type: "relu" },
        ...WEIGHTS,
        b_in: WEIGHTS.b_dec,
        info: { source: "saelens", architecture: "standard" },
      });
    }));

  it("a pre-6 TopK config (activation_fn_str + activation_fn_kwargs, flat hook_name)", () =>
    inTemp(async (dir) => {
      await saeLensFolder(
        dir,
        { d_in: 4, d_sae: 6, hook_name: "blocks.0.hook_resid_post", hook_layer: 0, activation_fn_str: "topk", activation_fn_kwargs: { k: 2 }, apply_b_dec_to_input: false, normalize_activations: false, model_name: "x", lr: 1e-4 },
        WEIGHTS,
      );
      const d = await loadSaeLens(dir);
      assert.deepEqual(d.activation, { type: "topk", k: 2 });
      assert.equal(d.b_in, undefined);
      assert.equal(d.hookIn, "blocks.0.hook_resid_post");
    }));

  it("a v6 TopK and a JumpReLU SAE, and a JumpReLU transcoder", () =>
    inTemp(async (dir) => {
      await saeLensFolder(dir, { ...V6_CFG, architecture: "topk", k: 3 }, WEIGHTS);
      assert.deepEqual((await loadSaeLens(dir)).activation, { type: "topk", k: 3 });
      const threshold = arr([6], 7);
      await saeLensFolder(dir, { ...V6_CFG, architecture: "jumprelu", apply_b_dec_to_input: false }, { ...WEIGHTS, threshold });
      const j = await loadSaeLens(dir);
      assert.deepEqual(j.activation, { type: "jumprelu" });
      assert.deepEqual(j.threshold, threshold);
      const tc = { W_enc: arr([4, 6], 1), W_dec: arr([6, 5], 2), b_enc: arr([6], 3), b_dec: arr([5], 4), threshold };
      await saeLensFolder(dir, { ...V6_CFG, architecture: "jumprelu_transcoder", d_out: 5, hook_name_out: "blocks.1.hook_mlp_out", hook_layer_out: 1 }, tc);
      const t = await loadSaeLens(dir);
      assert.deepEqual([t.kind, t.hookIn, t.hookOut, t.dIn, t.dSae, t.dOut], ["transcoder", "blocks.1.hook_resid_pre", "blocks.1.hook_mlp_out", 4, 6, 5]);
      assert.equal(t.b_in, undefined, "SAELens' Transcoder never subtracts b_dec (it lives in the output space)");
      assert.deepEqual(t.W_dec, tc.W_dec);
    }));

  it("refuses what a Dictionary cannot compute, naming cfg.json and the field", () =>
    inTemp(async (dir) => {
      const cfgFile = path.join(dir, "cfg.json");
      const cases: [Record<string, unknown>, string, string[]][] = [
        [{ ...V6_CFG, architecture: "gated" }, "SAELENS_CFG", ["gated", "gating"]],
        [{ ...V6_CFG, architecture: "skip_transcoder" }, "SAELENS_CFG", ["W_skip"]],
        [{ ...V6_CFG, normalize_activations: "layer_norm" }, "SAELENS_CFG", ["layer_norm"]],
        [{ ...V6_CFG, normalize_activations: "expected_average_only_in" }, "SAELENS_CFG", ["normalize_activations"]],
        [{ ...V6_CFG, activation_fn: "tanh-relu" }, "SAELENS_CFG", ["tanh-relu"]],
        [{ ...V6_CFG, architecture: "topk" }, "SAELENS_CFG", ["k"]],
        [{ ...V6_CFG, d_sae: undefined }, "SAELENS_CFG", ["d_sae"]],
        [{ ...V6_CFG, metadata: {} }, "SAELENS_CFG", ["hook_name"]],
        [{ ...V6_CFG, reshape_activations: "hook_z" }, "SAELENS_CFG", ["hook_z"]],
        [{ ...V6_CFG, architecture: "transcoder" }, "SAELENS_CFG", ["d_out"]],
      ];
      for (const [cfg, code, mentions] of cases) {
        await saeLensFolder(dir, cfg, WEIGHTS);
        const err = await rejectsWith(() => loadSaeLens(dir), ConfigError, code, cfgFile, mentions);
        assert.ok(err.field, `names the field: ${err.message}`);
      }
    }));

  it("refuses weights that disagree with cfg.json, naming the weights file", () =>
    inTemp(async (dir) => {
      const weights = path.join(dir, "sae_weights.safetensors");
      await saeLensFolder(dir, { ...V6_CFG, d_sae: 7 }, WEIGHTS);
      await rejectsWith(() => loadSaeLens(dir), CheckpointError, "DICTIONARY_SHAPE", weights, ["W_enc", "[4,6]", "[4,7]"]);
      await saeLensFolder(dir, V6_CFG, { ...WEIGHTS, W_skip: arr([4, 4], 1) });
      await rejectsWith(() => loadSaeLens(dir), CheckpointError, "DICTIONARY_TENSOR_UNKNOWN", weights, ["W_skip"]);
      await saeLensFolder(dir, { ...V6_CFG, architecture: "jumprelu" }, WEIGHTS);
      await rejectsWith(() => loadSaeLens(dir), CheckpointError, "DICTIONARY_TENSOR_MISSING", weights, ["threshold"]);
      await rejectsWith(() => loadSaeLens(path.join(dir, "missing")), ConfigError, "FILE_MISSING", "cfg.json");
    }));
});

describe("saveSaeLens → loadSaeLens", () => {
  const base = { hookIn: "blocks.2.hook_resid_post", hookOut: "blocks.2.hook_resid_post", dIn: 4, dSae: 6, dOut: 4, ...WEIGHTS };
  // Values whose bits a careless round trip would lose: -0, a NaN payload, subnormals, extremes.
  const awkward = new Float32Array(new Uint32Array([0x80000000, 0x7fc00123, 0x00000001, 0x7f7fffff, 0xff800000, 0x3f800000]).buffer);
  const dicts: [string, Dictionary][] = [
    ["ReLU SAE with b_in = b_dec and info", { kind: "sae", ...base, activation: { type: "relu" }, b_in: WEIGHTS.b_dec, info: { trainedOn: "tiny", steps: 3 } }],
    ["TopK SAE", { kind: "sae", ...base, activation: { type: "topk", k: 2 }, b_enc: { shape: [6], data: awkward } }],
    ["JumpReLU SAE", { kind: "sae", ...base, activation: { type: "jumprelu" }, threshold: { shape: [6], data: awkward } }],
    ["ReLU transcoder", { kind: "transcoder", ...base, hookIn: "blocks.2.hook_mlp_in", hookOut: "blocks.2.hook_mlp_out", dOut: 5, W_dec: arr([6, 5], 2), b_dec: arr([5], 4), activation: { type: "relu" } }],
    ["JumpReLU transcoder", { kind: "transcoder", ...base, hookIn: "blocks.2.hook_mlp_in", hookOut: "blocks.2.hook_mlp_out", dOut: 5, W_dec: arr([6, 5], 2), b_dec: arr([5], 4), activation: { type: "jumprelu" }, threshold: arr([6], 8) }],
  ];

  for (const [name, d] of dicts) {
    it(`${name}: bit-identical`, () =>
      inTemp(async (dir) => {
        await saveSaeLens(dir, d);
        const back = await loadSaeLens(dir);
        assert.deepEqual(back, d);
        for (const k of ["W_enc", "W_dec", "b_enc", "b_dec", "threshold", "b_in"] as const) {
          if (!d[k]) continue;
          assert.deepEqual(new Uint32Array(back[k]!.data.buffer, back[k]!.data.byteOffset, back[k]!.data.length), new Uint32Array(d[k]!.data.buffer, d[k]!.data.byteOffset, d[k]!.data.length), k);
        }
        const cfg = JSON.parse(readFileSync(path.join(dir, "cfg.json"), "utf8"));
        assert.equal(cfg.hook_name, d.hookIn);
        assert.equal(cfg.d_in, d.dIn);
        assert.equal(cfg.d_sae, d.dSae);
        if (d.kind === "transcoder") assert.deepEqual([cfg.architecture.endsWith("transcoder"), cfg.d_out, cfg.hook_name_out], [true, d.dOut, d.hookOut]);
      }));
  }

  it("refuses what SAELens cannot represent", () =>
    inTemp(async (dir) => {
      const cfgFile = path.join(dir, "cfg.json");
      const tc = dicts[3]![1];
      const cases: [Dictionary, string][] = [
        [{ ...tc, activation: { type: "topk", k: 2 } }, "TopK transcoder"],
        [{ ...dicts[0]![1], b_in: arr([4], 9) }, "b_in"],
        [{ ...dicts[0]![1], threshold: arr([6], 1) }, "threshold"],
      ];
      for (const [d, mention] of cases) {
        const err: ScalpelError = await rejectsWith(() => saveSaeLens(dir, d), ConfigError, "SAELENS_UNSUPPORTED", cfgFile);
        assert.ok(err.message.includes(mention) || err.field === mention, err.message);
      }
      await rejectsWith(() => saveSaeLens(dir, { ...dicts[0]![1], b_enc: arr([5], 1) }), CheckpointError, "DICTIONARY_SHAPE", cfgFile, ["b_enc"]);
    }));
});

it("formats.ts imports no Node built-ins (browser-safe); file access lives in formats-node.ts", () => {
  const src = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../src");
  const seen = new Set<string>();
  const stack = [path.join(src, "sae/formats.ts")];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
      assert.ok(!m[1]!.startsWith("node:"), `${path.relative(src, file)} imports ${m[1]}`);
      if (m[1]!.startsWith(".")) stack.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts")));
    }
  }
});
