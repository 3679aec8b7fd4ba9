// Runs commands, optionally inside a network namespace. nsenter (not `ip netns exec`)
// keeps /sys and so bpffs visible, which tests that use pinned objects rely on.

export interface ExecResult { code: number; stdout: string; stderr: string }
export interface ExecOptions {
  /** Network namespace name (under /var/run/netns). */
  netns?: string;
  /** Kill the command after this long (every generator in tests is bounded). Default 30 s. */
  timeoutMs?: number;
  /** Do not throw on a non-zero exit. */
  allowFail?: boolean;
  stdin?: string;
}

export function nsPath(name: string): string {
  return `/var/run/netns/${name}`;
}

function wrap(argv: string[], netns?: string): string[] {
  return netns ? ["nsenter", `--net=${nsPath(netns)}`, "--", ...argv] : argv;
}

export async function exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const proc = Bun.spawn(wrap(argv, opts.netns), {
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const result = { code, stdout, stderr };
  if (code !== 0 && !opts.allowFail) {
    throw new Error(`command failed (exit ${code}${proc.signalCode ? `, ${proc.signalCode}` : ""}): ${wrap(argv, opts.netns).join(" ")}\n${stderr.trim()}`);
  }
  return result;
}

/** Synchronous variant for teardown paths (Symbol.dispose cannot await). */
export function execSync(argv: string[], opts: Omit<ExecOptions, "stdin"> = {}): ExecResult {
  const proc = Bun.spawnSync(wrap(argv, opts.netns), { stdout: "pipe", stderr: "pipe", timeout: opts.timeoutMs ?? 30_000 });
  const result = { code: proc.exitCode ?? -1, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  if (result.code !== 0 && !opts.allowFail) {
    throw new Error(`command failed (exit ${result.code}): ${wrap(argv, opts.netns).join(" ")}\n${result.stderr.trim()}`);
  }
  return result;
}
