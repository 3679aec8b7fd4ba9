// Keeps an external plugin process alive: starts it, reports every exit with its code or
// signal, and restarts it after a backoff that doubles per consecutive crash (capped), reset once
// the process has stayed up for `reset_after_ms`. The core never waits on it: while the process
// is down, calls to the plugin fail fast and the pipeline degrades (the kernel keeps dropping).
import { lstatSync, unlinkSync } from "node:fs";
import type { Subprocess } from "bun";
import type { Logger } from "../plugin-api/types.ts";

export interface SupervisorOptions {
  id: string;
  argv: string[];
  env?: Record<string, string>;
  restart: { initial_backoff_ms: number; max_backoff_ms: number; reset_after_ms: number };
  /** A unix socket the process listens on: a stale socket file is removed before each start. */
  socketPath?: string;
  log: Logger;
  onExit?(info: { code: number | null; signal: string | null; restartInMs: number | null }): void;
  onSpawn?(pid: number, attempt: number): void;
}

export class ProcessSupervisor {
  private proc: Subprocess | null = null;
  private stopping = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private consecutive = 0;
  private startedAt = 0;
  /** Restarts after a crash (the first start is not counted). */
  restarts = 0;
  lastExit: string | null = null;

  constructor(private readonly opts: SupervisorOptions) {}

  get running(): boolean {
    return this.proc !== null;
  }

  start(): void {
    if (this.stopping || this.proc) return;
    this.removeStaleSocket();
    const proc = Bun.spawn(this.opts.argv, {
      env: { ...process.env, ...this.opts.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.proc = proc;
    this.startedAt = Date.now();
    this.opts.onSpawn?.(proc.pid, this.restarts);
    void this.forward(proc.stdout as ReadableStream<Uint8Array>, (l) => this.opts.log.info(l));
    void this.forward(proc.stderr as ReadableStream<Uint8Array>, (l) => this.opts.log.warn(l));
    void proc.exited.then(() => this.onExit(proc));
  }

  private onExit(proc: Subprocess): void {
    if (this.proc !== proc) return;
    this.proc = null;
    const signal = proc.signalCode === null || proc.signalCode === undefined ? null : String(proc.signalCode);
    const code = proc.exitCode;
    this.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (this.stopping) {
      this.opts.onExit?.({ code, signal, restartInMs: null });
      return;
    }
    if (Date.now() - this.startedAt >= this.opts.restart.reset_after_ms) this.consecutive = 0;
    const delay = Math.min(this.opts.restart.initial_backoff_ms * 2 ** this.consecutive, this.opts.restart.max_backoff_ms);
    this.consecutive++;
    this.opts.log.warn(`process ${proc.pid} ${this.lastExit}; restarting in ${delay} ms`);
    this.opts.onExit?.({ code, signal, restartInMs: delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.restarts++;
      try {
        this.start();
      } catch (err) {
        this.opts.log.error(`restart failed: ${(err as Error).message}`);
        this.onExit(proc);
      }
    }, delay);
  }

  /** A live process that stopped answering: killed, and the usual restart brings it back. */
  kill(): void {
    this.proc?.kill("SIGKILL");
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const proc = this.proc;
    if (!proc) return;
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    await proc.exited;
    clearTimeout(killer);
    this.removeStaleSocket();
  }

  private removeStaleSocket(): void {
    const path = this.opts.socketPath;
    if (!path) return;
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path);
    } catch {
      // absent: nothing to remove
    }
  }

  private async forward(stream: ReadableStream<Uint8Array>, emit: (line: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of stream) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) !== -1) {
          const line = buf.slice(0, nl).trimEnd();
          buf = buf.slice(nl + 1);
          if (line) emit(line);
        }
      }
    } catch {
      // the process went away mid-line
    }
    if (buf.trim()) emit(buf.trim());
  }
}
