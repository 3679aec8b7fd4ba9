export { exec, execSync, nsPath, type ExecOptions, type ExecResult } from "../../core/netns/exec.ts";
