/** Ordering a kind's stages: dependencies first, and a clear error for unknown deps or cycles. */
import type { StageDef } from "./kinds/types.js";

export function stageOrder<C>(kindName: string, stages: readonly StageDef<C>[]): StageDef<C>[] {
  const byName = new Map(stages.map((st) => [st.name, st]));
  const order: StageDef<C>[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (st: StageDef<C>, chain: string[]) => {
    if (state.get(st.name) === "done") return;
    if (state.get(st.name) === "visiting") throw new Error(`kind '${kindName}': stage cycle ${[...chain, st.name].join(" → ")}`);
    state.set(st.name, "visiting");
    for (const dep of st.after) {
      const d = byName.get(dep);
      if (!d) throw new Error(`kind '${kindName}': stage '${st.name}' runs after unknown stage '${dep}'`);
      visit(d, [...chain, st.name]);
    }
    state.set(st.name, "done");
    order.push(st);
  };
  for (const st of stages) visit(st, []);
  return order;
}
