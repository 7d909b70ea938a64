/**
 * Prompt → the next-token distribution (top k, with probabilities), and a continuation streamed
 * token by token (greedy, or sampled with a temperature and seed). Recomputed whenever the
 * session's model changes, so an edit or steering vector applied in another tab shows here.
 */
import { generate, topNextTokens } from "../../../browser.js";
import { defaultPrompt } from "../default-prompt.js";
import { busy, h, pct, replace, showToken } from "../dom.js";
import type { LabSession } from "../session.js";
import type { LabView } from "../view.js";

export const nextTokenView: LabView = {
  id: "next",
  title: "Next token",
  needsModel: true,
  async mount(root, session) {
    const prompt = h("textarea", { name: "prompt", rows: 3 });
    prompt.value = await defaultPrompt(session);
    const k = h("input", { type: "number", name: "k", value: 10, min: 1, max: 100, style: "width:4rem" });
    const predictBtn = h("button", { "data-action": "predict" }, "Predict");
    const status = h("span", { class: "status", id: "next-status" });
    const table = h("table", { id: "next-top" });
    const maxTokens = h("input", { type: "number", name: "max-tokens", value: 16, min: 1, max: 256, style: "width:4rem" });
    const temperature = h("input", { type: "number", name: "temperature", value: 0, min: 0, max: 5, step: 0.1, style: "width:4rem" });
    const seed = h("input", { type: "number", name: "seed", value: 0, style: "width:4rem" });
    const genBtn = h("button", { "data-action": "generate" }, "Continue");
    const continuation = h("div", { class: "continuation", id: "continuation" });

    const predict = () =>
      busy(predictBtn, status, "predicting…", async () => {
        const model = session.model;
        const ids = model.tokenizer.encode(prompt.value).ids;
        if (ids.length === 0) throw new Error("the prompt encodes to no tokens");
        showTop(table, await topNextTokens(model, ids, Math.max(1, Number(k.value) || 10)));
      });
    const continueText = () =>
      busy(genBtn, status, "generating…", async () => {
        const model = session.model;
        const temp = Number(temperature.value) || 0;
        replace(continuation, h("span", { class: "muted" }, prompt.value), "");
        const shown = continuation.lastChild as Text;
        await generate(model, [prompt.value], {
          maxNewTokens: Math.max(1, Number(maxTokens.value) || 16),
          ...(temp > 0 ? { temperature: temp, seed: Number(seed.value) || 0 } : {}),
          onStep: (g) => (shown.textContent = model.tokenizer.decode([...g[0]!], { skipSpecialTokens: true })),
        });
      });
    predictBtn.addEventListener("click", () => void predict());
    genBtn.addEventListener("click", () => void continueText());
    session.onChange(() => void predict());
    root.append(
      h("h2", {}, "Next token"),
      prompt,
      h("div", { class: "row" }, "top", k, predictBtn, status),
      table,
      h("h3", {}, "Continuation"),
      h("div", { class: "row" }, "tokens", maxTokens, "temperature (0 = greedy)", temperature, "seed", seed, genBtn),
      continuation,
    );
    await predict();
  },
};

function showTop(table: HTMLTableElement, top: { id: number; token: string; prob: number }[]): void {
  replace(
    table,
    h("tr", {}, h("th", {}, "#"), h("th", {}, "token"), h("th", {}, "id"), h("th", {}, "probability")),
    ...top.map((t, i) =>
      h(
        "tr",
        { "data-token-id": t.id, "data-prob": t.prob },
        h("td", { class: "num" }, i + 1),
        h("td", { class: "tok" }, showToken(t.token)),
        h("td", { class: "num" }, t.id),
        h("td", {}, h("span", { class: "bar", style: `width:${(t.prob * 12).toFixed(2)}rem` }), pct(t.prob, 2)),
      ),
    ),
  );
}
