/**
 * SAE / transcoder features: load a dictionary (a SAELens folder's cfg.json + sae_weights.safetensors,
 * or a scalpel dictionary file), read the top features at every token of a prompt (σ((x − b_in)·W_enc
 * + b_enc) at its input hook: sae/features.ts), and splice it into the lab — the reconstruction
 * replaces its output hook in every tab — with the prompt's cross-entropy clean vs spliced (ΔCE) and
 * the loss recovered against zero-ablation (sae/metrics.ts).
 */
import { parseJsonDocument, parseSafetensors, patchFromBytes, sae, type Model } from "../../../browser.js";
import { promptInput } from "../default-prompt.js";
import { busy, h, replace, showToken } from "../dom.js";
import type { LabView } from "../view.js";

type Dictionary = sae.Dictionary;

const TOP = 5;

export const featuresView: LabView = {
  id: "features",
  title: "SAE features",
  needsModel: true,
  async mount(root, session) {
    const files = h("input", { type: "file", name: "dictionary", multiple: true, accept: ".json,.safetensors" });
    const about = h("span", { class: "muted", id: "features-dictionary" }, "no dictionary loaded");
    const prompt = await promptInput(session);
    const read = h("button", { "data-action": "read-features", disabled: true }, "Read features");
    const splice = h("button", { "data-action": "splice", disabled: true }, "Splice into the lab");
    const status = h("span", { class: "status", id: "features-status" });
    const table = h("div", { id: "features-table" });
    const metrics = h("div", { id: "features-splice" });
    let dictionary: Dictionary | undefined;

    files.addEventListener("change", () =>
      void busy(null, status, "loading the dictionary…", async () => {
        dictionary = await dictionaryFromFiles([...(files.files ?? [])], session.model);
        about.textContent = describe(dictionary);
        read.disabled = splice.disabled = false;
      }),
    );
    read.addEventListener("click", () =>
      void busy(read, status, "reading…", async () => {
        const model = session.model;
        const ids = model.tokenizer.encode(prompt.value).ids;
        if (ids.length === 0) throw new Error("the prompt encodes to no tokens");
        const [rows] = sae.featureActivations(model, dictionary!, [ids]);
        replace(table, featureTable(ids.map((id) => model.tokenizer.decode([id])), rows!));
      }),
    );
    splice.addEventListener("click", () =>
      void busy(splice, status, "splicing…", async () => {
        const d = dictionary!;
        const ids = session.model.tokenizer.encode(prompt.value).ids;
        const m = await sae.spliceMetrics(session.model, sae.single(d), [ids]);
        session.apply(`${d.kind} splice at ${d.hookOut}`, sae.splicePatch(sae.single(d)));
        replace(
          metrics,
          h("table", {},
            h("tr", {}, h("th", {}, "CE clean"), h("th", {}, "CE spliced"), h("th", {}, "ΔCE"), h("th", {}, "CE zero-ablated"), h("th", {}, "loss recovered")),
            h("tr", { "data-row": "splice" }, ...[m.ceClean, m.ceSpliced, m.deltaCE, m.ceZeroAblation, m.ceLossRecovered].map((v) => h("td", { class: "num" }, v.toFixed(4)))),
          ),
          h("p", { class: "muted" }, "on the prompt's next-token losses; the splice now holds in every tab (undo it in the bar above)."),
        );
      }),
    );
    root.append(
      h("h2", {}, "SAE / transcoder features"),
      h("div", { class: "row" }, "dictionary (SAELens cfg.json + sae_weights.safetensors, or a scalpel dictionary .safetensors)", files, about),
      h("div", { class: "row" }, prompt, read, splice, status),
      table,
      metrics,
    );
  },
};

/** A dictionary from the picked files, checked against the model's width at its hooks. */
async function dictionaryFromFiles(picked: File[], model: Model): Promise<Dictionary> {
  const byName = new Map(picked.map((f) => [f.name, f]));
  const bytes = async (f: File) => new Uint8Array(await f.arrayBuffer());
  let d: Dictionary;
  const cfg = byName.get(sae.SAELENS_CFG);
  const weights = byName.get(sae.SAELENS_WEIGHTS);
  if (cfg && weights) {
    const cfgJson = parseJsonDocument(await cfg.text(), cfg.name);
    const { tensors } = await parseSafetensors(await bytes(weights), weights.name);
    d = sae.dictionaryFromSaeLens(cfgJson, tensors, { cfg: cfg.name, weights: weights.name });
  } else if (picked.length === 1 && picked[0]!.name.endsWith(".safetensors")) {
    const patch = await patchFromBytes(await bytes(picked[0]!), picked[0]!.name);
    const term = patch.type === "module" && patch.module.kind === "dictionary-splice" ? (patch.module as sae.DictionarySplice).terms : undefined;
    if (!term || term.length !== 1) throw new Error(`${picked[0]!.name} is not a dictionary file (a patch holding one dictionary splice)`);
    d = term[0]!.dictionary;
  } else {
    throw new Error(`pick a SAELens folder's ${sae.SAELENS_CFG} and ${sae.SAELENS_WEIGHTS} together, or one scalpel dictionary .safetensors`);
  }
  const names = model.hookNames();
  for (const hook of [d.hookIn, d.hookOut]) if (!names.includes(hook)) throw new Error(`the dictionary reads or writes ${hook}, which this model does not have`);
  const { cache } = model.forward([[0]], { cache: [d.hookIn], stopAt: d.hookIn });
  const width = cache[d.hookIn]!.shape.slice(2).reduce((a, b) => a * b, 1);
  cache[d.hookIn]!.dispose();
  if (width !== d.dIn) throw new Error(`the dictionary's d_in is ${d.dIn}; this model's ${d.hookIn} is ${width} wide`);
  return d;
}

function describe(d: Dictionary): string {
  const act = d.activation.type === "topk" ? `topk k=${d.activation.k}` : d.activation.type;
  return `${d.kind} ${d.hookIn}${d.hookOut !== d.hookIn ? ` → ${d.hookOut}` : ""}, d_sae ${d.dSae}, ${act}`;
}

/** Per token: the TOP most active features (id and activation), inactive ones left out. */
function featureTable(tokens: string[], rows: Float32Array[]): HTMLTableElement {
  return h(
    "table",
    {},
    h("tr", {}, h("th", {}, "token"), h("th", {}, "active"), h("th", {}, `top ${TOP} features (id: activation)`)),
    ...rows.map((f, t) => {
      const order = [...f.keys()].filter((i) => f[i]! > 0).sort((a, b) => f[b]! - f[a]!);
      return h(
        "tr",
        { "data-token": t },
        h("td", { class: "tok" }, showToken(tokens[t]!)),
        h("td", { class: "num" }, order.length),
        h("td", { class: "tok" }, order.slice(0, TOP).map((i) => `#${i}: ${f[i]!.toFixed(3)}`).join("   ")),
      );
    }),
  );
}
