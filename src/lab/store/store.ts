/**
 * Opening the store: a directory (default ./.scalpel) holding scalpel.db (SQLite, WAL mode so
 * worker processes can write while the runner reads) and artifacts/ (content-addressed outputs).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { ScalpelError } from "../../errors.js";
import { DDL, MIGRATE_1_TO_2, SCHEMA_VERSION, VIEWS } from "./ddl.js";

export type DB = Database.Database;

export class StoreError extends ScalpelError {}

export const DEFAULT_STORE_DIR = ".scalpel";

export interface Store {
  dir: string;
  db: DB;
  artifactsDir: string;
  /**
   * Process-wide resources shared by the stages and in-process trials that use this store (a loaded
   * model, a tokenised corpus), by key; see StageContext.resource. Owned here, not by a module.
   */
  resources: Map<string, Promise<unknown>>;
  close(): void;
}

export function openStore(dir = DEFAULT_STORE_DIR): Store {
  const abs = path.resolve(dir);
  let db: DB;
  try {
    mkdirSync(path.join(abs, "artifacts"), { recursive: true });
    db = new Database(path.join(abs, "scalpel.db"));
  } catch (e) {
    throw new StoreError("STORE_OPEN", `cannot open the store: ${(e as Error).message}`, { file: abs, fix: "pass a writable folder with --store DIR" });
  }
  db.pragma("journal_mode = WAL");
  // NORMAL is durable against a killed process (the WAL survives); only power loss could drop the last commit.
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 30000");
  db.pragma("foreign_keys = ON");
  db.exec(DDL);
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  if (!row) db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  else if (Number(row.value) === 1) {
    db.transaction(() => {
      db.exec(MIGRATE_1_TO_2);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION));
    })();
  } else if (Number(row.value) > SCHEMA_VERSION) {
    throw new StoreError("STORE_VERSION", `store schema version ${row.value} is newer than this scalpel understands (${SCHEMA_VERSION})`, {
      file: abs,
      fix: "upgrade scalpel or use another --store",
    });
  }
  db.exec(VIEWS);
  return { dir: abs, db, artifactsDir: path.join(abs, "artifacts"), resources: new Map(), close: () => db.close() };
}

export const nowIso = () => new Date().toISOString();
