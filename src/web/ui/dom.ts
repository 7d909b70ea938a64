/** A few DOM helpers for the lab's views (plain TS, no framework: the views are small). */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** `h("button", { onclick: f, class: "x" }, "Label")`: an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value" && "value" in el) (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
}

/** Replace an element's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A probability as "12.3%". */
export const pct = (p: number, digits = 1) => `${(p * 100).toFixed(digits)}%`;

/** A token as shown in the page: spaces and newlines made visible. */
export const showToken = (t: string) => t.replace(/ /g, "·").replace(/\n/g, "⏎") || "∅";

/** Run `work` with `button` disabled and `status` showing progress or the error (never thrown). */
export async function busy(button: HTMLButtonElement | null, status: HTMLElement, label: string, work: () => Promise<void>): Promise<void> {
  if (button) button.disabled = true;
  status.className = "status busy";
  status.textContent = label;
  const t0 = performance.now();
  try {
    await work();
    status.className = "status done";
    status.textContent = `${label.replace(/…$/, "")} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  } catch (e) {
    status.className = "status error";
    status.textContent = e instanceof Error ? e.message : String(e);
    console.error(e);
  } finally {
    if (button) button.disabled = false;
  }
}

/** A colour for a value in [0, 1] (white → blue), for heat-map cells. */
export function heat(v: number): string {
  const x = Math.max(0, Math.min(1, v));
  const c = (a: number, b: number) => Math.round(a + (b - a) * x);
  return `rgb(${c(255, 33)}, ${c(255, 102)}, ${c(255, 172)})`;
}

/** Text colour readable on heat(v). */
export const heatText = (v: number) => (v > 0.55 ? "#fff" : "#111");
