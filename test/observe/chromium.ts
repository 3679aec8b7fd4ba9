// Headless Chromium (Debian's `chromium`) for the live-page test: bounded in time (killed after
// 30 s), a fresh profile per run, no network beyond what the page asks for.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ?? null;

export async function chromium(url: string, what: { dumpDom: true } | { screenshot: string }, budgetMs = 4_000): Promise<string> {
  if (!CHROMIUM) throw new Error("chromium is not installed (scripts/setup.sh installs it)");
  const profile = mkdtempSync(join(tmpdir(), "xids-chromium-"));
  try {
    const argv = [
      CHROMIUM,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
      "--window-size=1280,900",
      `--virtual-time-budget=${budgetMs}`,
      "dumpDom" in what ? "--dump-dom" : `--screenshot=${what.screenshot}`,
      url,
    ];
    const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const kill = setTimeout(() => p.kill("SIGKILL"), 30_000);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(kill);
    if (code !== 0) throw new Error(`chromium exited ${code}: ${err.slice(-2000)}`);
    return out;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
