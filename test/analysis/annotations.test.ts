/**
 * annotationAgreement / readAnnotationFile / `scalpel agreement`.
 *
 * Golden numbers: the python packages krippendorff/statsmodels/sklearn are not installed here, so they
 * come from an independent exact-fraction reference (not agreement.ts's coincidence-matrix code):
 *
 *   from fractions import Fraction as F
 *   from itertools import combinations
 *   def alpha(raters, d):   # pairwise form, Krippendorff 2011: α = 1 − D_o/D_e over pairable values
 *       units=[[r[u] for r in raters if r[u] is not None] for u in range(len(raters[0]))]
 *       units=[u for u in units if len(u)>=2]; vals=[v for u in units for v in u]; n=len(vals)
 *       Do=sum(F(sum(d(u[i],u[j]) for i in range(len(u)) for j in range(len(u)) if i!=j), len(u)-1) for u in units)/n
 *       De=F(sum(d(vals[i],vals[j]) for i in range(n) for j in range(n) if i!=j), n*(n-1))
 *       return 1-Do/De
 *   nom=lambda a,b: 0 if a==b else 1;  itv=lambda a,b: (F(a)-F(b))**2
 *   def fleiss(items):      # Fleiss 1971 on complete items
 *       cats=sorted({v for t in items for v in t}); N=len(items); n=len(items[0])
 *       P=sum(F(sum(t.count(c)**2 for c in cats)-n, n*(n-1)) for t in items)/N
 *       Pe=sum(F(sum(t.count(c) for t in items), N*n)**2 for c in cats); return (P-Pe)/(1-Pe)
 *   def cohen(a,b):         # Cohen 1960
 *       N=len(a); po=F(sum(x==y for x,y in zip(a,b)),N)
 *       pe=sum(F(a.count(c),N)*F(b.count(c),N) for c in set(a)|set(b)); return (po-pe)/(1-pe)
 *   # items: complete rows only; pct = 100 · (# rows with one distinct value) / len(items)
 *
 * with the S (Sexism) and E (Edit reflected?) columns below (None = blank).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { annotationAgreement, readAnnotationFile, type AnnotationFile } from "../../src/analysis/annotations.js";
import { agreementCommand } from "../../src/cli/commands/agreement.js";
import { commands } from "../../src/cli/commands/index.js";
import { ConfigError, UsageError } from "../../src/errors.js";

const S = [
  ["1", "2", "1", "", "2", "1", "1", "2", "1", "1"],
  ["1", "2", "2", "1", "2", "", "1", "2", "1", "2"],
  ["1", "1", "1", "1", "2", "1", "", "2", "1", "1"],
];
const E = [
  ["1", "1", "0", "1", "", "1", "0", "1", "1", "1"],
  ["1", "1", "0", "0", "1", "1", "0", "1", "", "1"],
  ["1", "1", "1", "0", "1", "1", "0", "1", "1", "1"],
];
const EDIT = "Edit reflected?";

function raters(s = S, e = E): AnnotationFile[] {
  return s.map((col, r) => ({ name: `a${r + 1}.csv`, rows: col.map((v, i) => ({ id: String(i + 1), Sexism: v, [EDIT]: e[r]![i]!, note: `n${r}` })) }));
}

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

test("golden: blanks as missing values (nominal alpha; kappa and % agree on the 7 complete items)", () => {
  const [s] = annotationAgreement(raters(), { columns: ["Sexism"] });
  assert.equal(s!.nItems, 10);
  assert.deepEqual(s!.n, { alpha: 10, fleiss: 7, cohen: 7, percentAgree: 7 });
  assert.equal(s!.alphaLevel, "nominal");
  close(s!.alpha, 0.5411764705882353, "alpha");
  close(s!.fleiss, 0.42727272727272725, "fleiss");
  assert.deepEqual(s!.cohenPairs.map((p) => [p.a, p.b]), [["a1.csv", "a2.csv"], ["a1.csv", "a3.csv"], ["a2.csv", "a3.csv"]]);
  [0.46153846153846156, 0.6956521739130435, 0.27586206896551724].forEach((k, i) => close(s!.cohenPairs[i]!.kappa, k, `cohen ${i}`));
  close(s!.cohenMean, 0.47768423480567407, "cohen mean");
  close(s!.percentAgree, 57.142857142857146, "percent");
});

test("golden: fill 1.5 for blanks, interval alpha on the raw values", () => {
  const [s] = annotationAgreement(raters(), { columns: ["Sexism"], level: "interval", fill: { Sexism: "1.5" } });
  assert.deepEqual(s!.n, { alpha: 10, fleiss: 10, cohen: 10, percentAgree: 10 });
  close(s!.alpha, 0.4283837056504599, "alpha");
  close(s!.fleiss, 0.28286852589641437, "fleiss");
  close(s!.cohenMean, 0.3084753026893818, "cohen mean");
  close(s!.percentAgree, 40, "percent");
});

test("flextape rule reproduces eval/agreement.py: Edit reflected? filled with 0, interval alpha", () => {
  // flextape codes the labels set([0, 1]) as 0→0, 1→1, so its interval alpha is the alpha of the raw values.
  const [e] = annotationAgreement(raters(), { columns: [EDIT], level: "interval", fill: { [EDIT]: "0" } });
  close(e!.alpha, 0.3862433862433862, "alpha");
  close(e!.fleiss, 0.36507936507936506, "fleiss");
  assert.deepEqual(e!.cohenPairs.map((p) => Math.round(p.kappa * 1e12) / 1e12), [0.347826086957, 0.210526315789, 0.545454545455]);
  close(e!.cohenMean, 0.3679356494001803, "cohen mean");
  close(e!.percentAgree, 60, "percent");
});

test("flextape's flaw columns: its interval alpha is on the set-order codes 1.5→0, 2→1, 1→2, not the values", () => {
  // list(set([1.5, 1, 2])) == [1.5, 2, 1] in CPython, and agreement.py feeds those indices to krippendorff.alpha.
  const code: Record<string, string> = { "": "0", "1.5": "0", "2": "1", "1": "2" };
  const coded = S.map((col) => col.map((v) => code[v]!));
  const [s] = annotationAgreement(raters(coded), { columns: ["Sexism"], level: "interval" });
  close(s!.alpha, -0.07673267326732673, "alpha on codes");
  // Relabelling leaves the category statistics alone.
  close(s!.fleiss, 0.28286852589641437, "fleiss");
  close(s!.cohenMean, 0.3084753026893818, "cohen mean");
});

test("binary column: nominal alpha with blanks missing", () => {
  const [e] = annotationAgreement(raters(), { columns: [EDIT] });
  assert.deepEqual(e!.n, { alpha: 10, fleiss: 8, cohen: 8, percentAgree: 8 });
  close(e!.alpha, 0.6326530612244898, "alpha");
  close(e!.fleiss, 0.5966386554621849, "fleiss");
  close(e!.cohenMean, 0.5873015873015873, "cohen mean");
  close(e!.percentAgree, 75, "percent");
});

test("default columns: every column of the first file but the key; text columns compare as strings", () => {
  const out = annotationAgreement(raters(), { key: "id" });
  assert.deepEqual(out.map((r) => r.column), ["Sexism", EDIT, "note"]);
  assert.equal(out[2]!.percentAgree, 0); // n0, n1, n2 never agree
});

test("key join: shuffled rows give the position result; an item one rater lacks stays missing despite fill", () => {
  const rs = raters();
  const shuffled = { ...rs[2]!, rows: [...rs[2]!.rows].reverse() };
  const byPos = annotationAgreement(rs, { columns: ["Sexism"], level: "interval", fill: { Sexism: "1.5" } });
  const byKey = annotationAgreement([rs[0]!, rs[1]!, shuffled], { columns: ["Sexism"], level: "interval", fill: { Sexism: "1.5" }, key: "id" });
  assert.deepEqual(byKey, byPos);
  const lacking = { ...rs[2]!, rows: rs[2]!.rows.slice(0, 9).reverse() };
  const [s] = annotationAgreement([rs[0]!, rs[1]!, lacking], { columns: ["Sexism"], level: "interval", fill: { Sexism: "1.5" }, key: "id" });
  assert.equal(s!.nItems, 10);
  assert.deepEqual(s!.n, { alpha: 10, fleiss: 9, cohen: 9, percentAgree: 9 });
  close(s!.alpha, 0.415041782729805, "alpha");
  close(s!.fleiss, 0.34782608695652173, "fleiss");
  close(s!.cohenMean, 0.35795454545454547, "cohen mean");
  close(s!.percentAgree, 44.44444444444444, "percent");
});

test('"1" and "1.0" are the same number; undefined statistics are NaN, not errors', () => {
  const rows = (vals: string[]) => vals.map((v) => ({ x: v }));
  const [r] = annotationAgreement([{ name: "a", rows: rows(["1", "1"]) }, { name: "b", rows: rows(["1.0", " 1 "]) }], { level: "interval" });
  assert.equal(r!.percentAgree, 100);
  assert.ok(Number.isNaN(r!.alpha) && Number.isNaN(r!.fleiss) && Number.isNaN(r!.cohenMean)); // one category: 0/0
  const [blank] = annotationAgreement([{ name: "a", rows: rows(["", "1"]) }, { name: "b", rows: rows(["2", ""]) }]);
  assert.deepEqual(blank!.n, { alpha: 0, fleiss: 0, cohen: 0, percentAgree: 0 });
  assert.ok(Number.isNaN(blank!.alpha) && Number.isNaN(blank!.percentAgree));
});

function throwsCode(fn: () => unknown, code: string, re: RegExp, cls: typeof ConfigError | typeof UsageError = ConfigError): void {
  assert.throws(fn, (e: unknown) => e instanceof cls && (e as ConfigError).code === code && re.test((e as Error).message));
}

test("typed errors name the file and column", () => {
  const rs = raters();
  throwsCode(() => annotationAgreement(rs.slice(0, 1)), "ANNOTATION_TOO_FEW_RATERS", /at least 2.*a1\.csv/);
  throwsCode(() => annotationAgreement(rs, { columns: ["Sexism", "Racism"] }), "ANNOTATION_COLUMN_MISSING", /'Racism'.*file a1\.csv, field Racism/);
  const noSexism = { ...rs[1]!, rows: rs[1]!.rows.map(({ Sexism: _s, ...rest }) => rest) };
  throwsCode(() => annotationAgreement([rs[0]!, noSexism, rs[2]!], { columns: ["Sexism"] }), "ANNOTATION_COLUMN_MISSING", /file a2\.csv, field Sexism/);
  const short = { ...rs[2]!, rows: rs[2]!.rows.slice(1) };
  throwsCode(() => annotationAgreement([rs[0]!, rs[1]!, short]), "ANNOTATION_ROW_COUNT", /9 rows, but a1\.csv has 10.*file a3\.csv/);
  const dupKey = { ...rs[1]!, rows: [...rs[1]!.rows, rs[1]!.rows[4]!] };
  throwsCode(() => annotationAgreement([rs[0]!, dupKey], { key: "id" }), "ANNOTATION_KEY_REPEATED", /key '5'.*file a2\.csv, field id/);
  throwsCode(() => annotationAgreement(rs, { key: "item" }), "ANNOTATION_KEY_MISSING", /'item'.*file a1\.csv/);
  throwsCode(() => annotationAgreement(rs, { columns: ["Sexism"], fill: { Sexsim: "1.5" } }), "ANNOTATION_FILL_COLUMN", /'Sexsim'/);
  throwsCode(() => annotationAgreement(rs, { columns: ["note"], level: "ordinal" }), "ANNOTATION_NOT_NUMERIC", /needs numbers.*'n0'.*file a1\.csv, field note/);
  throwsCode(() => annotationAgreement([{ name: "a", rows: [] }, { name: "b", rows: [] }], { columns: ["x"] }), "ANNOTATION_COLUMN_MISSING", /file a/);
  throwsCode(() => annotationAgreement([{ name: "a", rows: [], columns: ["x"] }, { name: "b", rows: [], columns: ["x"] }]), "ANNOTATION_NO_ITEMS", /no items/);
});

async function tmp(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "annotations-"));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

test("CSV reader: BOM, CRLF, quoted commas / quotes / newlines, short rows, blank lines", async () => {
  const dir = await tmp({ "a.csv": '\uFEFFid,"Edit reflected?",text\r\n1,1,"pre, ""post""\r\nsecond line"\r\n\r\n2,,plain\r\n3\r\n' });
  const f = await readAnnotationFile(path.join(dir, "a.csv"));
  assert.deepEqual(f.columns, ["id", "Edit reflected?", "text"]);
  assert.deepEqual(f.rows, [
    { id: "1", "Edit reflected?": "1", text: 'pre, "post"\r\nsecond line' },
    { id: "2", "Edit reflected?": "", text: "plain" },
    { id: "3", "Edit reflected?": "", text: "" },
  ]);
});

test("JSON reader: array of objects, null is blank; typed errors for other shapes and missing files", async () => {
  const dir = await tmp({ "a.json": '[{"id": 1, "x": 2, "y": null}, {"id": 2, "x": true}]', "bad.json": '{"id": 1}', "nested.json": '[{"x": [1]}]', "dup.csv": "x,x\n1,2\n" });
  const f = await readAnnotationFile(path.join(dir, "a.json"));
  assert.deepEqual(f.rows, [{ id: "1", x: "2", y: "" }, { id: "2", x: "true" }]);
  assert.deepEqual(f.columns, ["id", "x", "y"]);
  await assert.rejects(readAnnotationFile(path.join(dir, "bad.json")), (e: unknown) => e instanceof ConfigError && e.code === "ANNOTATION_JSON_SHAPE" && /bad\.json/.test(e.message));
  await assert.rejects(readAnnotationFile(path.join(dir, "nested.json")), (e: unknown) => e instanceof ConfigError && e.code === "ANNOTATION_JSON_SHAPE" && /item 1, field 'x'/.test(e.message));
  await assert.rejects(readAnnotationFile(path.join(dir, "dup.csv")), (e: unknown) => e instanceof ConfigError && e.code === "ANNOTATION_DUPLICATE_COLUMN");
  await assert.rejects(readAnnotationFile(path.join(dir, "none.csv")), (e: unknown) => e instanceof ConfigError && e.code === "FILE_MISSING" && /none\.csv/.test(e.message));
});

async function captured(argv: string[]): Promise<string> {
  const log = console.log;
  const out: string[] = [];
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  try {
    await agreementCommand.run(argv);
  } finally {
    console.log = log;
  }
  return out.join("\n");
}

test("CLI: registered; prints the Markdown table and JSON (NaN as null)", async () => {
  assert.equal(await commands["agreement"]!(), agreementCommand);
  const csv = (r: number) => ["id,Sexism,Edit reflected?", ...S[r]!.map((v, i) => `${i + 1},${v},${E[r]![i]}`)].join("\n") + "\n";
  const dir = await tmp({ "a1.csv": csv(0), "a2.csv": csv(1), "a3.csv": csv(2) });
  const files = ["a1.csv", "a2.csv", "a3.csv"].map((f) => path.join(dir, f));
  const table = await captured([...files, "--key", "id", "--level", "interval", "--fill", "Sexism=1.5", "--fill", "Edit reflected?=0"]);
  assert.equal(
    table,
    [
      "| column | n | α (interval) | Fleiss κ | mean Cohen κ | % all agree |",
      "|---|---:|---:|---:|---:|---:|",
      "| Sexism | 10 | 0.428 | 0.283 | 0.308 | 40.0 |",
      "| Edit reflected? | 10 | 0.386 | 0.365 | 0.368 | 60.0 |",
    ].join("\n"),
  );
  const missing = await captured([...files, "--columns", "Sexism"]);
  assert.match(missing, /\| Sexism \| 10 \(α 10, κ\/% 7\) \| 0\.541 \| 0\.427 \| 0\.478 \| 57\.1 \|/);
  const json = JSON.parse(await captured([...files, "--columns", "Sexism", "--json"]));
  assert.equal(json[0].n.fleiss, 7);
  assert.equal(json[0].cohenPairs.length, 3);
  const one = path.join(dir, "one.csv");
  await writeFile(one, "x\n1\n1\n");
  const nan = JSON.parse(await captured([one, one, "--json"]));
  assert.equal(nan[0].alpha, null);
  assert.equal(nan[0].percentAgree, 100);
});

test("CLI: usage errors", async () => {
  const rejects = (argv: string[], code: string) => assert.rejects(agreementCommand.run(argv), (e: unknown) => e instanceof UsageError && e.code === code);
  await rejects(["a.csv"], "AGREEMENT_FILES");
  await rejects(["a.csv", "b.csv", "--level", "intervall"], "BAD_LEVEL");
  await rejects(["a.csv", "b.csv", "--fill", "Sexism"], "BAD_FILL");
  await rejects(["a.csv", "b.csv", "--fill", "=1"], "BAD_FILL");
  await rejects(["a.csv", "b.csv", "--columns", ","], "BAD_COLUMNS");
  await rejects(["a.csv", "b.csv", "--colums", "x"], "UNKNOWN_FLAG");
});
