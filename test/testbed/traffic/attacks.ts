// Every attack scenario: real attack tools, each run from its own host against the victim's
// services, bounded in work and time, and tolerant of being blocked half-way.
import type { Scenario } from "../scenario.ts";
import { HTTP_FLOOD_SCENARIOS } from "./http-flood.ts";
import { HYDRA_SCENARIOS } from "./hydra-bruteforce.ts";
import { SCAN_SCENARIOS } from "./scans.ts";
import { SLOW_HTTP_SCENARIOS } from "./slow-http.ts";
import { SYN_FLOOD_SCENARIOS } from "./syn-flood.ts";
import { WEB_BRUTEFORCE_SCENARIOS } from "./web-bruteforce.ts";
import { XSS_SCENARIOS } from "./web-xss.ts";

export const ATTACK_SCENARIOS: Scenario[] = [
  ...SCAN_SCENARIOS,
  ...SYN_FLOOD_SCENARIOS,
  ...HYDRA_SCENARIOS,
  ...SLOW_HTTP_SCENARIOS,
  ...HTTP_FLOOD_SCENARIOS,
  ...WEB_BRUTEFORCE_SCENARIOS,
  ...XSS_SCENARIOS,
];
