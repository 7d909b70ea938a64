/**
 * The system Chromium the browser tests drive through playwright-core (which downloads no browser):
 * $CHROMIUM_PATH, else Debian's /usr/bin/chromium (`apt-get install chromium`, as .ci/run does).
 * Returns a reason to skip when none can start.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);

export async function launchChromium(): Promise<Browser | string> {
  const executablePath = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (!executablePath) return `no Chromium found (looked at ${CHROMIUM_CANDIDATES.join(", ")}): apt-get install chromium, or set CHROMIUM_PATH`;
  try {
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    return await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  } catch (e) {
    return `Chromium at ${executablePath} did not start: ${(e as Error).message.split("\n")[0]}`;
  }
}
