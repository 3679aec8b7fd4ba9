// A one-line progress bar on stderr (a TTY redraws in place; logs get one line per update).
export function progressBar(label: string, total: number): { tick: (done: number, note?: string) => void; end: () => void } {
  const tty = process.stderr.isTTY;
  let last = -1;
  return {
    tick(done, note = "") {
      const pct = Math.floor((done / total) * 100);
      if (!tty && pct === last) return;
      if (!tty && pct % 10 !== 0 && done !== total) return;
      last = pct;
      const width = 30, fill = Math.round((done / total) * width);
      const line = `${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${done}/${total} ${note}`;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
    end() { if (tty) process.stderr.write("\n"); },
  };
}
