// Runs before every test file: the suite needs root and a mounted bpffs (setup mounts it).
import { existsSync, readFileSync } from "node:fs";

if (process.getuid?.() !== 0) throw new Error("the xids test suite runs real-kernel tests and needs root");
const mounts = readFileSync("/proc/mounts", "utf8");
if (!mounts.split("\n").some((l) => l.split(" ")[1] === "/sys/fs/bpf" && l.split(" ")[2] === "bpf")) {
  throw new Error("bpffs is not mounted at /sys/fs/bpf: run 'npm run setup' (it mounts it)");
}
if (!existsSync(new URL("../native/build/Release/xids_native.node", import.meta.url))) {
  throw new Error("the native addon is not built: run 'npm run setup'");
}
