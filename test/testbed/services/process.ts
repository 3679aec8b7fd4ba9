// Long-running service processes inside the victim namespace: started through nsenter with
// their output in a log file (a pipe nobody drains would block a chatty server such as sshd -e),
// checked for readiness by connecting from inside the namespace, and stopped with every
// descendant (nginx workers, sshd and vsftpd session processes).
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Netns } from "../../harness/netns.ts";

export interface ServiceProcess {
  name: string;
  pid: number;
  /** Where the process's stdout and stderr go. */
  logFile: string;
  exited: Promise<number>;
  stop(): Promise<void>;
}

/** Runs argv in the victim namespace, in the log file's directory. */
export function spawnService(victim: Netns, name: string, argv: string[], logFile: string): ServiceProcess {
  const fd = openSync(logFile, "a");
  let proc: Bun.Subprocess;
  try {
    proc = Bun.spawn(["nsenter", `--net=${victim.path}`, "--", ...argv], { cwd: dirname(logFile), stdin: "ignore", stdout: fd, stderr: fd });
  } finally {
    closeSync(fd);
  }
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid: proc.pid,
    logFile,
    exited: proc.exited,
    stop() {
      stopping ??= (async () => {
        killTree(proc.pid);
        await Promise.race([proc.exited, Bun.sleep(3_000)]);
      })();
      return stopping;
    },
  };
}

/** The last part of a service's log, for error messages. */
export function logTail(logFile: string, chars = 1_500): string {
  try {
    const text = readFileSync(logFile, "utf8").trim();
    return text.length > chars ? `...${text.slice(-chars)}` : text || "(no output)";
  } catch {
    return "(no log)";
  }
}

/**
 * Waits until the service accepts a TCP connection on 127.0.0.1:port inside the victim namespace
 * (loopback, so the probe never crosses a monitored link), and with `ipv6` on [::1]:port too.
 * Fails early if the process exits.
 */
export async function waitUntilListening(victim: Netns, svc: ServiceProcess, port: number, timeoutMs = 10_000, ipv6 = false): Promise<void> {
  let exitCode: number | undefined;
  void svc.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  for (const loopback of ipv6 ? ["127.0.0.1", "::1"] : ["127.0.0.1"]) {
    for (;;) {
      if (exitCode !== undefined) {
        throw new Error(`victim service ${svc.name} exited (code ${exitCode}) before listening on port ${port}:\n${logTail(svc.logFile)}`);
      }
      const probe = await victim.exec(["timeout", "-s", "KILL", "2", "bash", "-c", `exec 3<>/dev/tcp/${loopback}/${port}`], { allowFail: true, timeoutMs: 3_000 });
      if (probe.code === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`victim service ${svc.name} does not accept connections on ${loopback} port ${port} after ${timeoutMs} ms:\n${logTail(svc.logFile)}`);
      }
      await Bun.sleep(100);
    }
  }
}

async function assertPortFree(victim: Netns, name: string, port: number): Promise<void> {
  const listeners = await victim.exec(["ss", "-Hltn", `sport = :${port}`], { timeoutMs: 5_000 });
  if (listeners.stdout.trim()) throw new Error(`victim service ${name}: TCP port ${port} is already in use in the victim namespace`);
}

/**
 * Starts a server and returns once it accepts connections on its port (with `ipv6`, over IPv6
 * too); a port already taken fails at once (otherwise the readiness probe would be answered by
 * the other listener).
 */
export async function startListeningService(victim: Netns, opts: { name: string; argv: string[]; logFile: string; port: number; ipv6?: boolean }): Promise<ServiceProcess> {
  await assertPortFree(victim, opts.name, opts.port);
  const svc = spawnService(victim, opts.name, opts.argv, opts.logFile);
  try {
    await waitUntilListening(victim, svc, opts.port, 10_000, opts.ipv6 ?? false);
  } catch (err) {
    await svc.stop();
    throw err;
  }
  return svc;
}

function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // The command name is in parentheses and may contain spaces; the parent pid follows it.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  return children;
}

function descendantsAndSelf(root: number): number[] {
  const children = childrenByParent();
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // already gone
  }
}

/**
 * Kills a process and all its descendants. The tree is frozen first (SIGSTOP until no new
 * process appears), so no child can fork and escape to init between the walk and the kill.
 */
export function killTree(root: number): void {
  const frozen = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const fresh = descendantsAndSelf(root).filter((pid) => !frozen.has(pid));
    if (fresh.length === 0 && round > 0) break;
    for (const pid of fresh) if (signal(pid, "SIGSTOP")) frozen.add(pid);
    if (round === 0 && !frozen.has(root)) return; // the root is already gone
  }
  for (const pid of frozen) signal(pid, "SIGKILL");
}
