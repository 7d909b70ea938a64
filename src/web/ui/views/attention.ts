/**
 * Attention patterns of the prompt: for a chosen layer, one query × key heat map per head
 * (TransformerLens' hook_pattern: softmax of the causally masked scores).
 */
import { attentionPatterns, type AttentionPatterns } from "../../../browser.js";
import { promptInput } from "../default-prompt.js";
import { busy, h, heat, heatText, replace, showToken } from "../dom.js";
import type { LabView } from "../view.js";

export const attentionView: LabView = {
  id: "attention",
  title: "Attention",
  needsModel: true,
  async mount(root, session) {
    const prompt = await promptInput(session);
    const layer = h("select", { name: "layer" });
    const run = h("button", { "data-action": "attention" }, "Show");
    const status = h("span", { class: "status", id: "attention-status" });
    const heads = h("div", { id: "attention-heads", class: "row", style: "align-items:flex-start" });
    let patterns: AttentionPatterns | undefined;
    const draw = () => patterns && replace(heads, ...headTables(patterns, Number(layer.value)));
    const go = () =>
      busy(run, status, "computing…", async () => {
        const model = session.model;
        if (layer.options.length !== model.config.nLayers) {
          replace(layer, ...Array.from({ length: model.config.nLayers }, (_, l) => h("option", { value: l }, `layer ${l}`)));
        }
        const ids = model.tokenizer.encode(prompt.value).ids;
        if (ids.length === 0) throw new Error("the prompt encodes to no tokens");
        patterns = await attentionPatterns(model, ids);
        draw();
      });
    run.addEventListener("click", () => void go());
    layer.addEventListener("change", draw);
    session.onChange(() => void go());
    root.append(h("h2", {}, "Attention patterns"), h("div", { class: "row" }, prompt, layer, run, status), heads);
    await go();
  },
};

function headTables(p: AttentionPatterns, layer: number): HTMLElement[] {
  const T = p.tokens.length;
  const pattern = p.layers[layer]!;
  return Array.from({ length: p.nHeads }, (_, head) =>
    h(
      "div",
      { "data-head": head },
      h("div", { class: "muted" }, `head ${layer}.${head}`),
      h(
        "table",
        { class: "heat" },
        h("tr", {}, h("th", {}, "q \\ k"), ...p.tokens.map((t) => h("th", { class: "tok" }, showToken(t)))),
        ...p.tokens.map((t, q) =>
          h(
            "tr",
            {},
            h("th", { class: "tok" }, showToken(t)),
            ...Array.from({ length: T }, (_, k) => {
              const v = pattern[(head * T + q) * T + k]!;
              return h("td", { style: `background:${heat(v)};color:${heatText(v)}`, title: v.toFixed(4) }, k <= q ? v.toFixed(2) : "");
            }),
          ),
        ),
      ),
    ),
  );
}
