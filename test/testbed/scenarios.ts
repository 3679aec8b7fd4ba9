// Every scenario the testbed knows, benign clients first.
import type { Scenario } from "./scenario.ts";
import { BENIGN_SCENARIOS } from "./traffic/benign.ts";
import { ATTACK_SCENARIOS } from "./traffic/attacks.ts";

export const ALL_SCENARIOS: Scenario[] = [...BENIGN_SCENARIOS, ...ATTACK_SCENARIOS];

/** The scenarios named by id (all when none are named); an unknown id is an error naming the known ones. */
export function selectScenarios(ids: string[] = []): Scenario[] {
  if (ids.length === 0) return ALL_SCENARIOS;
  const known = new Map(ALL_SCENARIOS.map((s) => [s.id, s]));
  return ids.map((id) => {
    const s = known.get(id);
    if (!s) throw new Error(`unknown scenario '${id}' (known: ${[...known.keys()].join(", ")})`);
    return s;
  });
}
