// Lighthouse's accessibility audit of each URL read from stdin (one a line), in one headless Chromium.
//
// Chromium is started once (CHROME_PATH, e.g. Debian's /usr/bin/chromium; no sandbox, so that it runs as
// root in CI) and every page is audited in it, which saves a browser start per page. For each URL one JSON
// line goes to stdout: {"url", "score" (0..1, or null when the run failed), "error", "failing": [{"id",
// "title", "nodes": [snippets]}]}. The caller may change the site between two URLs: the next URL is read
// only once the previous line is written. Used by tests/e2e/test_lighthouse.py.
import readline from "node:readline";

import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const CHROME_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// Accessibility only, and no waiting for speed measurements: the page is audited once it has loaded and
// its network is quiet. (Throttling stays "simulate": any other method makes Lighthouse wait 5 s more for a
// quiet CPU and network, and without performance audits nothing is simulated.)
const CONFIG = {
  extends: "lighthouse:default",
  settings: {
    onlyCategories: ["accessibility"],
    disableFullPageScreenshot: true,
    pauseAfterFcpMs: 0,
    pauseAfterLoadMs: 0,
    networkQuietThresholdMs: 0,
    cpuQuietThresholdMs: 0,
  },
};

function failingAudits(lhr) {
  const references = lhr.categories.accessibility?.auditRefs ?? [];
  return references
    .map((reference) => lhr.audits[reference.id])
    .filter((audit) => audit && audit.score !== null && audit.score < 1)
    .map((audit) => ({
      id: audit.id,
      title: audit.title,
      nodes: (audit.details?.items ?? []).map((item) => item.node?.snippet ?? JSON.stringify(item)),
    }));
}

async function audit(url, port) {
  try {
    const flags = { port, output: "json", logLevel: process.env.LIGHTHOUSE_LOG_LEVEL ?? "error" };
    const result = await lighthouse(url, flags, CONFIG);
    const lhr = result.lhr;
    const error = lhr.runtimeError ? `${lhr.runtimeError.code}: ${lhr.runtimeError.message}` : null;
    return { url, score: lhr.categories.accessibility?.score ?? null, error, failing: failingAudits(lhr) };
  } catch (error) {
    return { url, score: null, error: String(error?.stack ?? error), failing: [] };
  }
}

const chrome = await chromeLauncher.launch({ chromePath: process.env.CHROME_PATH, chromeFlags: CHROME_FLAGS });
try {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const url = line.trim();
    if (url) {
      process.stdout.write(JSON.stringify(await audit(url, chrome.port)) + "\n");
    }
  }
} finally {
  await chrome.kill();
}
