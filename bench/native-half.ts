/**
 * `npm run bench:half`: half-precision weights in the native executor (model/native/onnx-node.ts).
 * The GPT-2-small shape (random weights, rounded to float16 so both runs hold the same values) is
 * saved once as F32 and once as F16; each is loaded in its own process, which then runs the native
 * forward (64 and 512 tokens) and greedy generation. Reported per precision: the bytes of weights the
 * executor holds (one copy, fed to every session) and the times; the ratio column is F16 over F32
 * measured in the same run. (RSS is not reported: the allocator reuses what loading freed, so its
 * growth did not track the weights.)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const RUNS = 5;
const child = process.argv.indexOf("--child");

if (child >= 0) {
  const dir = process.argv[child + 1]!;
  const { initEngine } = await import("../src/tensor/engine.js");
  await initEngine("wasm");
  const { loadModel } = await import("../src/model/load.js");
  const { generate } = await import("../src/model/generate.js");
  const { enableNativeExecutor } = await import("../src/model/native/enable-node.js");
  const { nativeForward, nativeWeightBytes } = await import("../src/model/native/onnx-node.js");
  const { idTokenizer } = await import("./id-tokenizer.js");
  const vocab = Number(process.argv[child + 2]);
  const model = await loadModel(dir, { tokenizer: idTokenizer(vocab) });
  const ids = (n: number) => Array.from({ length: n }, (_, i) => (i * 7919) % vocab);
  const out: Record<string, number> = {};
  for (const T of [64, 512]) {
    await nativeForward(model, [ids(T)]);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await nativeForward(model, [ids(T)]);
      times.push(performance.now() - t);
    }
    out[`forward_${T}_ms`] = times.sort((a, b) => a - b)[RUNS >> 1]!;
  }
  enableNativeExecutor();
  await generate(model, [ids(16)], { maxNewTokens: 4, eosTokenId: null });
  const t = performance.now();
  await generate(model, [ids(16)], { maxNewTokens: 32, eosTokenId: null });
  out.generate_tok_s = 32 / ((performance.now() - t) / 1000);
  out.weights_mb = (await nativeWeightBytes(model)) / 2 ** 20;

  console.log(JSON.stringify(out));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const work = mkdtempSync(path.join(tmpdir(), "scalpel-bench-half-"));
try {
  const { initEngine } = await import("../src/tensor/engine.js");
  await initEngine("wasm");
  const { gpt2 } = await import("../src/model/families/gpt2.js");
  const { createModel } = await import("../src/model/model.js");
  const { randomParams } = await import("../src/model/random-params.js");
  const { loadModel, saveModel } = await import("../src/model/load.js");
  const { idTokenizer } = await import("./id-tokenizer.js");
  const config = gpt2.parseConfig({ model_type: "gpt2" }, "bench");
  console.error("bench:half: writing the GPT-2-small shape as F16 and F32…");
  const random = createModel(config, randomParams(config, 0), idTokenizer(config.vocabSize));
  await saveModel(random, path.join(work, "f16"), { floatDtype: "F16" });
  random.dispose();
  const rounded = await loadModel(path.join(work, "f16"), { tokenizer: idTokenizer(config.vocabSize) });
  await saveModel(rounded, path.join(work, "f32"));
  rounded.dispose();

  const measure = (which: string): Record<string, number> => {
    const r = spawnSync(process.execPath, ["--import", "tsx", self, "--child", path.join(work, which), String(config.vocabSize)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) throw new Error(`bench:half ${which} child failed (exit ${r.status})`);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
  };
  const f32 = measure("f32");
  const f16 = measure("f16");
  const rows: [string, string][] = [
    ["weights the executor holds, shared by its sessions (MB)", "weights_mb"],
    ["forward, 64 tokens (ms)", "forward_64_ms"],
    ["forward, 512 tokens (ms)", "forward_512_ms"],
    ["greedy generation, KV cache, 16+32 tokens (tokens/s)", "generate_tok_s"],
  ];
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  console.log(`native executor, GPT-2 small shape (${config.nLayers} layers, d_model ${config.dModel}), float16-representable random weights, medians of ${RUNS}`);
  console.log("");
  console.log("| measurement | F32 checkpoint | F16 checkpoint | F16 / F32 |");
  console.log("|---|---:|---:|---:|");
  for (const [label, key] of rows) console.log(`| ${label} | ${fmt(f32[key]!)} | ${fmt(f16[key]!)} | ${(f16[key]! / f32[key]!).toFixed(2)} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
