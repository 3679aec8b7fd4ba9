// Test hosts: the product's namespace helpers, under the prefix the leak check looks for.
export { Netns, createVethPair, twoHosts, type TwoHosts, type VethEnd, type VethPair } from "../../core/netns/netns.ts";
export { exec, execSync, nsPath, type ExecOptions, type ExecResult } from "../../core/netns/exec.ts";

/** Everything tests create is named with this prefix (the default of core/netns). */
export const TEST_PREFIX = "xidst";
