// Runs attack tools in a scenario's namespace under hard bounds. A tool whose target stops
// answering (the victim blocked its source) may wait forever on its own, so every command runs
// under `timeout -s KILL`, which kills the tool's whole process group (hydra's and goldeneye's
// workers too), with the exec timeout as a backstop; failures are results, never exceptions.
import type { ScenarioContext } from "../scenario.ts";

/** How long a tool may outlive the scenario's soft budget before it is killed. */
export const GRACE_MS = 5_000;

/** The scenario's soft budget: no new work starts after the deadline. */
export class Budget {
  readonly deadline: number;

  constructor(durationMs: number) {
    this.deadline = performance.now() + durationMs;
  }

  remainingMs(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  /** Whether a step that needs at least `minMs` may still start. */
  allows(minMs = 1_000): boolean {
    return this.remainingMs() >= minMs;
  }

  /** Sleeps up to `ms`, never past the deadline. */
  async pause(ms: number): Promise<void> {
    const wait = Math.min(ms, this.remainingMs());
    if (wait > 0) await Bun.sleep(wait);
  }
}

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed at its time limit (expected for tools that run until stopped). */
  killed: boolean;
  elapsedMs: number;
}

export interface ToolOptions {
  /** The tool's own limit; it is cut further to the budget's remainder plus `graceMs`. */
  maxMs: number;
  /** Time past the deadline the tool may use to finish (0 for tools that run until killed). */
  graceMs?: number;
  stdin?: string;
}

/** The time limit a tool started now would get. */
export function toolLimitMs(budget: Budget, opts: Pick<ToolOptions, "maxMs" | "graceMs">): number {
  return Math.max(1_000, Math.min(opts.maxMs, budget.remainingMs() + (opts.graceMs ?? GRACE_MS)));
}

/**
 * Runs `argv` in the scenario's namespace from its work directory (where tools leave files such
 * as hydra.restore). stdbuf keeps the output line-buffered, so a killed tool's progress lines are
 * not lost in a stdio buffer.
 */
export async function runTool(ctx: ScenarioContext, budget: Budget, argv: string[], opts: ToolOptions): Promise<ToolRun> {
  const limitMs = toolLimitMs(budget, opts);
  const seconds = Math.max(1, Math.round(limitMs / 1_000));
  const wrapped = ["env", "-C", ctx.workDir, "timeout", "-s", "KILL", String(seconds), "stdbuf", "-oL", "-eL", ...argv];
  const started = performance.now();
  try {
    const r = await ctx.ns.exec(wrapped, { allowFail: true, timeoutMs: seconds * 1_000 + 3_000, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
    // timeout(1) kills its own process group with the tool, so a timed-out run ends by SIGKILL.
    return { ...r, killed: r.code === 137 || r.code === -1, elapsedMs: performance.now() - started };
  } catch (err) {
    return { code: -1, stdout: "", stderr: (err as Error).message, killed: false, elapsedMs: performance.now() - started };
  }
}

/** The first line of a tool's error output, for a result note. */
export function firstErrorLine(run: ToolRun): string {
  return (run.stderr.split("\n").find((l) => l.trim() !== "") ?? `exit ${run.code}`).trim().slice(0, 160);
}
