/**
 * The lab server: what it serves, what it refuses (paths leaving the model folder, hidden files,
 * symlinks out, writes, foreign Host headers), and that it listens on loopback only.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ScalpelError } from "../../src/errors.js";
import { safeSegments } from "../../src/web/safe-path.js";
import { createLabApp, startLab } from "../../src/web/server.js";

/** A model folder (only config.json matters to the server) beside a secret file outside it. */
function fixture(): { root: string; model: string } {
  const root = mkdtempSync(path.join(tmpdir(), "scalpel-lab-"));
  const model = path.join(root, "model");
  mkdirSync(path.join(model, "data"), { recursive: true });
  writeFileSync(path.join(model, "config.json"), JSON.stringify({ model_type: "llama" }));
  writeFileSync(path.join(model, "data", "facts.json"), "[]");
  writeFileSync(path.join(model, ".env"), "TOKEN=hidden");
  writeFileSync(path.join(root, "secret.txt"), "outside the model folder");
  symlinkSync(path.join(root, "secret.txt"), path.join(model, "link.txt"));
  return { root, model };
}

/** A raw GET whose path is sent byte for byte (fetch and URL would normalise "..") . */
function rawGet(port: number, rawPath: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: rawPath, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("safeSegments refuses every way out of the root", () => {
  assert.deepEqual(safeSegments("data/facts.json"), ["data", "facts.json"]);
  assert.deepEqual(safeSegments("a%20b/c.json"), ["a b", "c.json"]);
  for (const bad of ["../x", "a/../../x", "%2e%2e/x", "..%2Fx", "a%2F..%2F..%2Fx", "..%5Cx", ".env", "a/.git/config", "a//b", "%00x", "%E0%A4%A", "C:/x", "", "/"]) {
    assert.equal(safeSegments(bad), null, bad);
  }
});

test("the app serves the page, its code and the model folder, and nothing else", async () => {
  const { root, model } = fixture();
  const { app, close } = await createLabApp({ modelDir: model });
  try {
    const info = (await (await app.request("/api/lab")).json()) as { model: { name: string; files: string[] }; store: boolean };
    assert.deepEqual(info.model, { name: "model", files: ["config.json", "data/facts.json"] }); // no .env, no symlink
    assert.equal(info.store, false);
    const page = await app.request("/");
    assert.match(await page.text(), /<script type="module" src="\/app\/main.js">/);
    assert.equal(page.headers.get("cross-origin-opener-policy"), "same-origin");
    assert.equal(page.headers.get("cross-origin-embedder-policy"), "require-corp");
    const js = await app.request("/app/main.js");
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type")!, /javascript/);
    const cfg = await app.request("/model/config.json");
    assert.deepEqual(await cfg.json(), { model_type: "llama" });
    assert.equal((await app.request("/model/data/facts.json")).status, 200);
    for (const p of ["/model/.env", "/model/link.txt", "/model/%2e%2e/secret.txt", "/model/..%2Fsecret.txt", "/model/data/..%2F..%2Fsecret.txt", "/model/data", "/model/missing.json", "/api/store/studies", "/etc/passwd"]) {
      const res = await app.request(p);
      assert.equal(res.status, 404, p);
      assert.doesNotMatch(await res.text(), /outside the model folder|TOKEN/, p);
    }
    for (const method of ["POST", "PUT", "DELETE"]) assert.equal((await app.request("/model/config.json", { method })).status, 405, method);
  } finally {
    close();
  }
  void root;
});

test("the server listens on 127.0.0.1 only, refuses raw ../ paths and foreign Host headers", async () => {
  const { model } = fixture();
  const lab = await startLab({ modelDir: model, port: 0 });
  try {
    assert.equal(lab.url, `http://127.0.0.1:${lab.port}/`);
    assert.equal((await rawGet(lab.port, "/model/config.json")).status, 200);
    for (const p of ["/model/../secret.txt", "/model/../../../../etc/passwd", "/model/data/../../secret.txt", "/model/%2e%2e/secret.txt", "/../secret.txt"]) {
      const res = await rawGet(lab.port, p);
      assert.notEqual(res.status, 200, p);
      assert.doesNotMatch(res.body, /outside the model folder|root:/, p);
    }
    // DNS rebinding: a page on another origin that resolves to 127.0.0.1 still sends its own Host.
    assert.equal((await rawGet(lab.port, "/api/lab", `evil.example:${lab.port}`)).status, 403);
    assert.equal((await rawGet(lab.port, "/api/lab", `localhost:${lab.port}`)).status, 200);
    // Every other interface of this machine refuses the connection.
    const others = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === "IPv4" && !i.internal);
    for (const iface of others) {
      await assert.rejects(
        new Promise((resolve, reject) => http.get({ host: iface!.address, port: lab.port, path: "/api/lab", timeout: 2000 }, resolve).on("error", reject).on("timeout", () => reject(new Error("timeout")))),
        iface!.address,
      );
    }
  } finally {
    await lab.close();
  }
});

test("a model folder without config.json and a store folder without scalpel.db are typed errors", async () => {
  const { root, model } = fixture();
  await assert.rejects(createLabApp({ modelDir: root }), (e: unknown) => e instanceof ScalpelError && /config\.json/.test(e.message));
  await assert.rejects(createLabApp({ modelDir: model, storeDir: path.join(root, "nostore") }), (e: unknown) => e instanceof ScalpelError && /scalpel\.db/.test(e.message));
});
