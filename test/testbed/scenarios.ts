// Every scenario the testbed knows, benign clients first: the demo's default set, and the
// scenario matrix (matrix.ts), which runs only when named.
import { MATRIX_SCENARIOS } from "./matrix.ts";
import type { Scenario } from "./scenario.ts";
import { BENIGN_SCENARIOS } from "./traffic/benign.ts";
import { ATTACK_SCENARIOS } from "./traffic/attacks.ts";

export const ALL_SCENARIOS: Scenario[] = [...BENIGN_SCENARIOS, ...ATTACK_SCENARIOS];

/** Names that stand for a set: "default" (ALL_SCENARIOS) and "matrix" (MATRIX_SCENARIOS). */
const GROUPS = new Map<string, Scenario[]>([["default", ALL_SCENARIOS], ["matrix", MATRIX_SCENARIOS]]);

/**
 * The scenarios named by id or group (all of the default set when none are named), in the order
 * named; an unknown id is an error naming the known ones. Matrix scenarios are found by id too.
 */
export function selectScenarios(ids: string[] = []): Scenario[] {
  if (ids.length === 0) return ALL_SCENARIOS;
  const known = new Map([...ALL_SCENARIOS, ...MATRIX_SCENARIOS].map((s) => [s.id, s]));
  return ids.flatMap((id) => {
    const group = GROUPS.get(id);
    if (group) return group;
    const s = known.get(id);
    if (!s) throw new Error(`unknown scenario '${id}' (known: ${[...known.keys(), ...GROUPS.keys()].join(", ")})`);
    return [s];
  });
}
