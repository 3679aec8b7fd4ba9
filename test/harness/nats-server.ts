// A real nats-server (Debian's) for the fleet tests and the fleet bench: JetStream on, on
// 127.0.0.1 at a free port, its store in a temp dir; stopped (and the dir removed) on dispose.
// stop() and start() again keep the port and the store, as a restarted server would.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export class NatsServer implements AsyncDisposable {
  private proc: Subprocess<"ignore", "ignore", "pipe"> | null = null;
  log = "";

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly configFile: string | undefined,
  ) {}

  /** Starts one; `configFile` (nats-server -c) for accounts and permissions. */
  static async start(opts: { configFile?: string } = {}): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), mkdtempSync(join(tmpdir(), "xids-nats-")), opts.configFile);
    try {
      await server.run();
    } catch (err) {
      await server[Symbol.asyncDispose]();
      throw err;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  private async run(): Promise<void> {
    const argv = ["nats-server", "-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir, ...(this.configFile ? ["-c", this.configFile] : [])];
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    this.proc = proc;
    // One reader for the process's life (leaving a stream's loop early cancels it: the server
    // would die of SIGPIPE); `ready` resolves at its "Server is ready" line.
    let markReady: (ok: boolean) => void = () => {};
    const ready = new Promise<boolean>((resolve) => (markReady = resolve));
    void (async () => {
      const dec = new TextDecoder();
      let thisRun = "";
      for await (const chunk of proc.stderr) {
        const text = dec.decode(chunk, { stream: true });
        this.log += text;
        thisRun += text;
        if (thisRun.includes("Server is ready")) markReady(true);
      }
      markReady(false);
    })().catch(() => markReady(false));
    const timeout = Bun.sleep(15_000).then(() => false);
    if (!(await Promise.race([ready, timeout]))) {
      proc.kill("SIGKILL");
      throw new Error(`nats-server did not start on port ${this.port}:\n${this.log.slice(-4000)}`);
    }
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Stops it (SIGTERM, SIGKILL after 5 s); the store stays for start(). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5_000);
    await p.exited;
    clearTimeout(t);
  }

  /** Starts it again on the same port with the same store. */
  async start(): Promise<void> {
    if (!this.proc) await this.run();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
