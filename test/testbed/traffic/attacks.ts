// Every attack scenario: real attack tools, each run from its own host against the victim's
// services, bounded in work and time, and tolerant of being blocked half-way.
import type { Scenario } from "../scenario.ts";
import { AB_FLOOD_SCENARIOS } from "./ab-flood.ts";
import { FFUF_SCENARIOS } from "./ffuf-web.ts";
import { HPING3_FLOOD_SCENARIOS } from "./hping3-floods.ts";
import { HTTP_FLOOD_SCENARIOS } from "./http-flood.ts";
import { HYDRA_SCENARIOS } from "./hydra-bruteforce.ts";
import { MASSCAN_SCENARIOS } from "./masscan.ts";
import { MEDUSA_SCENARIOS } from "./medusa-bruteforce.ts";
import { NCRACK_SCENARIOS } from "./ncrack-bruteforce.ts";
import { PATATOR_SCENARIOS } from "./patator-bruteforce.ts";
import { MATRIX_SCAN_SCENARIOS, SCAN_SCENARIOS } from "./scans.ts";
import { SIEGE_FLOOD_SCENARIOS } from "./siege-flood.ts";
import { SLOW_HTTP_SCENARIOS } from "./slow-http.ts";
import { SLOWLORIS_SCENARIOS } from "./slowloris.ts";
import { SQLMAP_SCENARIOS } from "./sqlmap.ts";
import { SYN_FLOOD_SCENARIOS } from "./syn-flood.ts";
import { T50_FLOOD_SCENARIOS } from "./t50-floods.ts";
import { WEB_BRUTEFORCE_SCENARIOS } from "./web-bruteforce.ts";
import { SQLI_SCENARIOS } from "./web-sqli.ts";
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

/**
 * The scenario matrix's attacks (test/testbed/matrix.ts): second and third tools and modes for
 * every class above, and SQL injection. Not in ATTACK_SCENARIOS, which the demo runs by default.
 */
export const MATRIX_ATTACK_SCENARIOS: Scenario[] = [
  ...MATRIX_SCAN_SCENARIOS,
  ...MASSCAN_SCENARIOS,
  ...T50_FLOOD_SCENARIOS,
  ...HPING3_FLOOD_SCENARIOS,
  ...AB_FLOOD_SCENARIOS,
  ...SIEGE_FLOOD_SCENARIOS,
  ...MEDUSA_SCENARIOS,
  ...NCRACK_SCENARIOS,
  ...PATATOR_SCENARIOS,
  ...FFUF_SCENARIOS,
  ...SLOWLORIS_SCENARIOS,
  ...SQLI_SCENARIOS,
  ...SQLMAP_SCENARIOS,
];
