// Headless Chromium driven over the DevTools protocol, for tests that must measure real (not
// virtual) time and act on a page: navigate, evaluate a script in it, wait for a DOM condition.
// Bounded: every command times out, and close() kills the browser and removes its profile.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM } from "./chromium.ts";

const COMMAND_MS = 10_000;

export class Browser implements AsyncDisposable {
  #id = 0;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly proc: Bun.Subprocess<"ignore", "ignore", "pipe">,
    private readonly ws: WebSocket,
    private readonly profile: string,
    private session = "",
  ) {
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = m.id === undefined ? undefined : this.#pending.get(m.id);
      if (!p) return; // an event: nothing here subscribes to any
      this.#pending.delete(m.id!);
      if (m.error) p.reject(new Error(`DevTools: ${m.error.message}`));
      else p.resolve(m.result);
    };
  }

  /** Starts Chromium with one blank page attached. */
  static async launch(): Promise<Browser> {
    if (!CHROMIUM) throw new Error("chromium is not installed (scripts/setup.sh installs it)");
    const profile = mkdtempSync(join(tmpdir(), "xids-cdp-"));
    const argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", `--user-data-dir=${profile}`, "--window-size=1280,900",
      "--remote-debugging-port=0", "about:blank"];
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    try {
      const wsUrl = await devtoolsUrl(proc.stderr);
      const ws = new WebSocket(wsUrl);
      await new Promise<void>((res, rej) => ((ws.onopen = () => res()), (ws.onerror = () => rej(new Error(`cannot connect to ${wsUrl}`)))));
      const b = new Browser(proc, ws, profile);
      const { targetInfos } = (await b.send("Target.getTargets")) as { targetInfos: { targetId: string; type: string }[] };
      const page = targetInfos.find((t) => t.type === "page");
      if (!page) throw new Error("chromium opened no page");
      b.session = ((await b.send("Target.attachToTarget", { targetId: page.targetId, flatten: true })) as { sessionId: string }).sessionId;
      return b;
    } catch (err) {
      proc.kill("SIGKILL");
      rmSync(profile, { recursive: true, force: true });
      throw err;
    }
  }

  /** One DevTools command (to the page once attached); rejects after COMMAND_MS. */
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.#pending.delete(id), reject(new Error(`DevTools ${method}: no answer in ${COMMAND_MS} ms`))), COMMAND_MS);
      this.#pending.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) });
      this.ws.send(JSON.stringify({ id, method, params, ...(this.session ? { sessionId: this.session } : {}) }));
    });
  }

  async navigate(url: string): Promise<void> {
    const r = (await this.send("Page.navigate", { url })) as { errorText?: string };
    if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
  }

  /** The value of a JavaScript expression in the page (promises awaited). */
  async eval<T>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true })) as { result: { value: T }; exceptionDetails?: { text: string } };
    if (r.exceptionDetails) throw new Error(`page script ${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** Polls `expression` until it is truthy; returns the real milliseconds it took. */
  async waitFor(what: string, expression: string, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    while (!(await this.eval<boolean>(`Boolean(${expression})`).catch(() => false))) {
      if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await Bun.sleep(10);
    }
    return performance.now() - t0;
  }

  async close(): Promise<void> {
    this.ws.close();
    this.proc.kill("SIGKILL");
    await this.proc.exited;
    rmSync(this.profile, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Chromium names its DevTools endpoint on stderr ("DevTools listening on ws://..."); the rest of
 *  stderr is read and dropped, so a chatty browser never blocks on a full pipe. */
function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  return new Promise((resolve, reject) => {
    const dec = new TextDecoder();
    let text = "", found = false;
    const deadline = setTimeout(() => reject(new Error(`chromium named no DevTools endpoint in 15 s: ${text.slice(-1000)}`)), 15_000);
    (async () => {
      for await (const chunk of stderr) {
        if (found) continue;
        text += dec.decode(chunk);
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
        if (m) (found = true), clearTimeout(deadline), resolve(m[1]!);
      }
      if (!found) clearTimeout(deadline), reject(new Error(`chromium exited before naming its DevTools endpoint: ${text.slice(-1000)}`));
    })().catch(() => {});
  });
}
