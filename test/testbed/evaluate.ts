// The real-time evaluation of a testbed run (the paper's Table VII and more): per-category
// accuracy and mean flows between errors, flow-level F1 / FPR over the whole run, and per host
// whether it was blocked and how fast (first packet of the attack to the first packet dropped).
import { Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import { BENIGN } from "./scenario.ts";
import type { TestbedRun } from "./run.ts";

export interface CategoryRow {
  label: string;
  flows: number;
  errors: number;
  /** Flows the kernel gave no verdict (counted as benign: nothing was blocked for them). */
  unclassified: number;
  accuracy: number;
  /** Mean flows between errors (the paper's MTTF); null when there was no error. */
  mttf: number | null;
}

export interface HostRow {
  scenario: string;
  label: string;
  ip: string;
  flows: number;
  /** Flows the kernel called attacks. */
  detected: number;
  blocked: boolean;
  /** First packet of the host's traffic to the kernel's block, ms. */
  blockAfterMs: number | null;
  /** First packet to the first packet dropped (detection latency), ms; null when nothing was dropped. */
  latencyMs: number | null;
  dropped: number;
  error?: string;
}

export interface Evaluation {
  flows: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  fpr: number;
  accuracy: number;
  unclassified: number;
  categories: CategoryRow[];
  hosts: HostRow[];
  attacks_total: number;
  attacks_blocked: number;
  benign_total: number;
  benign_blocked: number;
  /** Per attack scenario: detection latency in ms (null: not blocked, or blocked with nothing left to drop). */
  detection_latency_ms: Record<string, number | null>;
}

const ms = (ns: bigint) => Number(ns) / 1e6;

export function evaluateRun(run: TestbedRun): Evaluation {
  let tp = 0, fp = 0, tn = 0, fn = 0, unclassified = 0;
  const cats = new Map<string, CategoryRow>();
  const perHost = new Map<string, { flows: number; detected: number; firstUs: bigint }>();
  for (const f of run.flows) {
    const attack = f.label !== BENIGN;
    const v = f.record.kernelVerdict;
    if (v === Verdict.VERDICT_NONE) unclassified++;
    const saidAttack = v === Verdict.VERDICT_ATTACK;
    if (attack && saidAttack) tp++;
    else if (attack) fn++;
    else if (saidAttack) fp++;
    else tn++;
    const c = cats.get(f.label) ?? { label: f.label, flows: 0, errors: 0, unclassified: 0, accuracy: 0, mttf: null };
    c.flows++;
    if (attack !== saidAttack) c.errors++;
    if (v === Verdict.VERDICT_NONE) c.unclassified++;
    cats.set(f.label, c);
    const h = perHost.get(f.scenario) ?? { flows: 0, detected: 0, firstUs: BigInt(f.record.firstUs) };
    h.flows++;
    if (saidAttack) h.detected++;
    if (BigInt(f.record.firstUs) < h.firstUs) h.firstUs = BigInt(f.record.firstUs);
    perHost.set(f.scenario, h);
  }
  for (const c of cats.values()) {
    c.accuracy = c.flows ? (c.flows - c.errors) / c.flows : 0;
    c.mttf = c.errors ? c.flows / c.errors : null;
  }
  const hosts: HostRow[] = run.hosts.map((o) => {
    const h = perHost.get(o.scenario.id);
    const firstNs = h ? h.firstUs * 1000n : null;
    const b = o.block;
    return {
      scenario: o.scenario.id,
      label: o.scenario.label,
      ip: o.ip,
      flows: h?.flows ?? 0,
      detected: h?.detected ?? 0,
      blocked: b !== null,
      blockAfterMs: b && firstNs !== null ? ms(b.addedNs - firstNs) : null,
      latencyMs: b && firstNs !== null && b.firstDropNs > 0n ? ms(b.firstDropNs - firstNs) : null,
      dropped: b ? Number(b.hits) : 0,
      ...("error" in o.result ? { error: o.result.error } : {}),
    };
  });
  const attacks = hosts.filter((h) => h.label !== BENIGN);
  const benign = hosts.filter((h) => h.label === BENIGN);
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const order = (l: string) => (l === BENIGN ? "" : l);
  return {
    flows: run.flows.length,
    tp, fp, tn, fn,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    fpr: fp + tn ? fp / (fp + tn) : 0,
    accuracy: run.flows.length ? (tp + tn) / run.flows.length : 0,
    unclassified,
    categories: [...cats.values()].sort((a, b) => order(a.label).localeCompare(order(b.label))),
    hosts,
    attacks_total: attacks.length,
    attacks_blocked: attacks.filter((h) => h.blocked).length,
    benign_total: benign.length,
    benign_blocked: benign.filter((h) => h.blocked).length,
    detection_latency_ms: Object.fromEntries(attacks.map((h) => [h.scenario, h.latencyMs === null ? null : Math.round(h.latencyMs)])),
  };
}
