/**
 * Live steering: a CAA vector fitted from a few A/B pairs (pre-filled from the served model's CAA
 * data, editable as JSON) or read from a file (`scalpel steer --save-patch`'s patch, a .npy array);
 * a layer and an α; unsteered and steered continuations of a prompt side by side, streamed; and
 * "Apply to lab", which applies the steering patch so every tab sees it. The work is in
 * ../live-steer.ts.
 */
import { AB_PROMPT_FORMATS, defaultABPromptFormat, edit, parseOpenEnded, type ABPromptFormat } from "../../../browser.js";
import { busy, h, replace } from "../dom.js";
import { caaBehaviours, fitCAAVectors, generateSideBySide, layerSteering, PREFILL_PAIRS, vectorsFromFile, type LayerVectors } from "../live-steer.js";
import type { LabSession } from "../session.js";
import type { LabView } from "../view.js";

async function fetchJson(path: string): Promise<unknown> {
  const res = await fetch(`/model/${path}`);
  if (!res.ok) throw new Error(`/model/${path}: HTTP ${res.status}`);
  return res.json();
}

/** A/B pairs and a prompt from the first behaviour of the served model's CAA data, when it has one. */
async function prefill(session: LabSession): Promise<{ behaviour: string; pairs: unknown[]; prompt: string } | undefined> {
  const [b] = caaBehaviours(session.info.model?.files ?? []);
  if (!b) return undefined;
  const items = await fetchJson(b.generate);
  const pairs = Array.isArray(items) ? items.slice(0, PREFILL_PAIRS) : [];
  const open = b.openEnded ? parseOpenEnded(await fetchJson(b.openEnded), b.openEnded) : [];
  return { behaviour: b.behaviour, pairs, prompt: open[0]?.question ?? "" };
}

export const steerView: LabView = {
  id: "steer",
  title: "Steer",
  needsModel: true,
  async mount(root, session) {
    const initial = await prefill(session).catch(() => undefined);
    const { nLayers } = session.base.config;
    const pairs = h("textarea", { name: "pairs", rows: 8, spellcheck: "false" }, initial ? JSON.stringify(initial.pairs, null, 1) : "[]");
    // The fact-world model was trained on question + " " + answer; other models get CAA's base format (as `scalpel steer`).
    const builtin = edit.declaredCorpus(session.base) === "factworld";
    const format = h("select", { name: "format" }, ...AB_PROMPT_FORMATS.map((f) => h("option", { value: f, selected: f === defaultABPromptFormat(builtin) }, f)));
    const file = h("input", { type: "file", name: "vector-file", accept: ".safetensors,.npy" });
    const layer = h("select", { name: "layer" }, ...Array.from({ length: nLayers }, (_, l) => h("option", { value: l, selected: l === Math.floor(nLayers / 2) }, `layer ${l}`)));
    const alpha = h("input", { type: "range", name: "alpha", min: -8, max: 8, step: 0.5, value: 1 });
    const alphaShown = h("output", {}, alpha.value);
    const prompt = h("input", { type: "text", name: "steer-prompt", style: "flex: 1", value: initial?.prompt ?? "", placeholder: "a prompt to continue" });
    const maxTokens = h("input", { type: "number", name: "max-tokens", min: 1, max: 256, value: 24 });
    const fit = h("button", { "data-action": "fit-vector" }, "Fit CAA vector");
    const run = h("button", { "data-action": "generate-steered" }, "Generate");
    const applyBtn = h("button", { "data-action": "apply-steering" }, "Apply to lab");
    const status = h("div", { id: "steer-status", class: "status" }, initial ? `${initial.pairs.length} A/B pairs of '${initial.behaviour}' pre-filled` : "");
    const vectorInfo = h("div", { class: "muted" }, "no vector yet");
    const plain = h("pre", { id: "steer-plain", class: "continuation" });
    const steered = h("pre", { id: "steer-steered", class: "continuation" });
    let vectors: LayerVectors | undefined;

    alpha.addEventListener("input", () => (alphaShown.value = alpha.value));

    const setVectors = (v: LayerVectors) => {
      vectors = v;
      if (v.layer !== undefined) layer.value = String(v.layer);
      if (v.alpha !== undefined) alpha.value = String(v.alpha);
      alphaShown.value = alpha.value;
      vectorInfo.textContent = `vector: ${v.source}; layers ${Object.keys(v.vectors).join(", ")}`;
    };
    const fitFromPairs = async () => {
      let json: unknown;
      try {
        json = JSON.parse(pairs.value);
      } catch (e) {
        throw new Error(`the A/B pairs are not valid JSON: ${(e as Error).message}`);
      }
      setVectors(await fitCAAVectors(session.model, json, { format: format.value as ABPromptFormat }));
    };
    const patch = () => layerSteering(vectors!, Number(layer.value), Number(alpha.value));

    fit.addEventListener("click", () => busy(fit, status, "Fitting CAA vectors…", fitFromPairs));

    file.addEventListener("change", () => {
      const f = file.files?.[0];
      if (f) void busy(null, status, `Reading ${f.name}…`, async () => setVectors(await vectorsFromFile(new Uint8Array(await f.arrayBuffer()), f.name, session.model)));
    });

    run.addEventListener("click", () =>
      busy(run, status, "Generating…", async () => {
        if (!prompt.value.trim()) throw new Error("give a prompt to continue");
        if (!vectors) await fitFromPairs();
        replace(plain);
        replace(steered);
        const out = { plain, steered };
        const res = await generateSideBySide(session.model, prompt.value, patch(), {
          maxNewTokens: Number(maxTokens.value) || 24,
          onText: (which, text) => (out[which].textContent = text),
        });
        plain.textContent = res.plain;
        steered.textContent = res.steered;
      }),
    );

    applyBtn.addEventListener("click", () =>
      busy(applyBtn, status, "Applying the steering patch to the lab…", async () => {
        if (!vectors) await fitFromPairs();
        session.apply(`${vectors!.method.toUpperCase()}: layer ${layer.value}, α ${alpha.value}`, patch());
      }),
    );

    replace(
      root,
      h("h2", {}, "Live steering"),
      h("p", { class: "muted" }, "Add α·v to the residual stream after a layer, from the last prompt token on (CAA). Fit v from A/B pairs or load a saved vector."),
      h("div", { class: "row" }, h("span", {}, "A/B pairs (CAA JSON), prompt format"), format, fit, h("span", {}, "or load a vector (.safetensors patch, .npy)"), file),
      pairs,
      vectorInfo,
      h("div", { class: "row" }, "layer", layer, "α", alpha, alphaShown, "tokens", maxTokens),
      h("div", { class: "row" }, "prompt", prompt, run, applyBtn),
      status,
      h("div", { class: "side-by-side" }, h("div", {}, h("h3", {}, "unsteered"), plain), h("div", {}, h("h3", {}, "steered"), steered)),
    );
  },
};
