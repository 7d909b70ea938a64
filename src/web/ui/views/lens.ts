/**
 * Logit lens: the most probable next token read out of the residual stream after every block, at
 * every position (rows: embedding, block 0 … block L−1; the last row is the model's own output),
 * coloured by its probability; hover a cell for the top 5.
 */
import { logitLens, type LogitLens } from "../../../browser.js";
import { promptInput } from "../default-prompt.js";
import { busy, h, heat, heatText, pct, replace, showToken } from "../dom.js";
import type { LabView } from "../view.js";

export const lensView: LabView = {
  id: "lens",
  title: "Logit lens",
  needsModel: true,
  async mount(root, session) {
    const prompt = await promptInput(session);
    const run = h("button", { "data-action": "lens" }, "Read the stream");
    const status = h("span", { class: "status", id: "lens-status" });
    const grid = h("div", { id: "lens-grid" });
    const go = () =>
      busy(run, status, "reading…", async () => {
        const model = session.model;
        const ids = model.tokenizer.encode(prompt.value).ids;
        if (ids.length === 0) throw new Error("the prompt encodes to no tokens");
        replace(grid, lensTable(await logitLens(model, ids, 5)));
      });
    run.addEventListener("click", () => void go());
    session.onChange(() => void go());
    root.append(h("h2", {}, "Logit lens"), h("div", { class: "row" }, prompt, run, status), grid);
    await go();
  },
};

function lensTable(lens: LogitLens): HTMLTableElement {
  const label = (p: string, i: number) => (i === 0 ? "embedding" : `block ${p.match(/blocks\.(\d+)/)![1]}`);
  return h(
    "table",
    { class: "heat" },
    h("tr", {}, h("th", {}, "after ↓ / input →"), ...lens.tokens.map((t) => h("th", { class: "tok" }, showToken(t)))),
    ...lens.points.map((p, i) =>
      h(
        "tr",
        { "data-point": p },
        h("th", {}, label(p, i)),
        ...lens.top[i]!.map((cands) => {
          const best = cands[0]!;
          return h(
            "td",
            {
              class: "tok",
              style: `background:${heat(best.prob)};color:${heatText(best.prob)}`,
              title: cands.map((c) => `${showToken(c.token)} ${pct(c.prob)}`).join("\n"),
            },
            showToken(best.token),
            h("div", { style: "font-size:10px" }, pct(best.prob, 0)),
          );
        }),
      ),
    ),
  );
}
