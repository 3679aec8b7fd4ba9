// Line logger on stderr, filtered by level: "<time> <level> [<scope>] message", or (format json, for
// journald and log shippers) one object per line: {"time","level","component","msg"}.

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A logger that can make a child logger for a sub-scope ("xids/webhook"). */
export interface ScopedLogger extends Logger {
  child(scope: string): ScopedLogger;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;
export type LogFormat = "text" | "json";

export function createLogger(scope: string, level: LogLevel = "info", write: (line: string) => void = (l) => process.stderr.write(l + "\n"), format: LogFormat = "text"): ScopedLogger {
  const min = LEVELS[level];
  const emit = (lvl: LogLevel, msg: string) => {
    if (LEVELS[lvl] < min) return;
    const time = new Date().toISOString();
    write(format === "json" ? JSON.stringify({ time, level: lvl, component: scope, msg }) : `${time} ${lvl.padEnd(5)} [${scope}] ${msg}`);
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    child: (sub) => createLogger(`${scope}/${sub}`, level, write, format),
  };
}

/** At most one line per key every `ms`; the next one says how many were held back meanwhile. */
export function throttled(write: (msg: string) => void, ms = 10_000): (key: string, msg: string) => void {
  const last = new Map<string, { at: number; held: number }>();
  return (key, msg) => {
    const now = Date.now(), l = last.get(key);
    if (l && now - l.at < ms) return void l.held++;
    write(l?.held ? `${msg} (and ${l.held} more like it held back)` : msg);
    last.set(key, { at: now, held: 0 });
  };
}
