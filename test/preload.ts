// Runs before the test files. As root (the real-kernel suite) it checks what the kernel tests need
// and says how to fix it; unprivileged, only tests that need no kernel can pass (the kernel tests
// then fail on their first BPF call: they never skip).
import { existsSync, readFileSync } from "node:fs";

if (process.getuid?.() === 0) {
  const mounts = readFileSync("/proc/mounts", "utf8");
  if (!mounts.split("\n").some((l) => l.split(" ")[1] === "/sys/fs/bpf" && l.split(" ")[2] === "bpf")) {
    throw new Error("bpffs is not mounted at /sys/fs/bpf: run 'npm run setup' (it mounts it)");
  }
  if (!existsSync(new URL("../native/build/Release/xids_native.node", import.meta.url))) {
    throw new Error("the native addon is not built: run 'npm run setup'");
  }
}
