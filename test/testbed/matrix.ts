// The scenario matrix: every attack class made by at least two independent tools or modes, and
// benign traffic of many kinds, each drawing its parameters from the run's seeded rng, so a model
// can be trained on some tools and judged on traffic it never saw. Not part of the demo's default
// set (ALL_SCENARIOS), which the shipped model was trained for: run them by id, or all of them
// with `--scenarios matrix` (selectScenarios in scenarios.ts).
import type { Scenario } from "./scenario.ts";
import { MATRIX_ATTACK_SCENARIOS } from "./traffic/attacks.ts";
import { MATRIX_BENIGN_SCENARIOS } from "./traffic/benign.ts";

export const MATRIX_SCENARIOS: Scenario[] = [...MATRIX_BENIGN_SCENARIOS, ...MATRIX_ATTACK_SCENARIOS];
