// `xids replay`: a capture through the real XDP program (BPF_PROG_TEST_RUN with the test clock)
// or through the TypeScript reference; one CSV row per flow.
import { writeFileSync } from "node:fs";
import { parseFlags, UsageError } from "../../../core/cli/args.ts";
import type { Command } from "../../../core/cli/command.ts";
import { salvageCapture } from "./pcap.ts";
import { COUNTER_NAMES, Counter } from "../../../core/ebpf/abi.ts";
import { liveReplayOptions } from "./replay-config.ts";
import { toCsv } from "./csv.ts";
import { classifyRecords, replayKernel, replayReference, sortRecords, type KernelReplayOptions, type KernelReplayResult, type ReplayOptions } from "./replay.ts";
import { kernelModelOf } from "../../models/kernel/probes.ts";
import { loadArtifact } from "../../../models/artifact/load.ts";

const spec = {
  kernel: "boolean",
  reference: "boolean",
  out: "string",
  "idle-timeout": "number",
  "active-timeout": "number",
  "early-end": "number",
  "tail-absorb": "number",
  "sweep-interval": "number",
  "drop-malformed": "boolean",
  counters: "boolean",
  model: "string",
  config: "string",
} as const;

export const command: Command = {
  name: "replay",
  summary: "replay a capture through the XDP program (--kernel) or the reference; flows as CSV",
  help: `usage: xids replay <capture.pcap|.pcapng> --kernel|--reference [--out flows.csv] [options]

Runs every packet of an Ethernet capture through the data plane, honouring capture timestamps,
and writes one CSV row per ended flow (5-tuple, the CIC-IDS-2017 feature columns, first/last
seen, end reason, verdict, score). Rows are sorted by first-seen time. Without --out, CSV goes
to stdout. A summary (flows, packets, counters) goes to stderr.
  --kernel             the real XDP program via BPF_PROG_TEST_RUN (needs root)
  --reference          the TypeScript reference extractor (the kernel's oracle)
  --idle-timeout S     idle timeout in seconds (default: the configuration's, 2 s by default)
  --active-timeout S   active timeout in seconds, from the flow's first packet (default: the
                       configuration's, 3 s by default)
  --early-end N        end a flow after N forward packets (default: the configuration's, 0 = off)
  --tail-absorb S      seconds after a FIN/RST end during which bare TCP packets of that
                       connection are not a new flow (default 5; 0 = CICFlowMeter's behaviour)
  --sweep-interval S   capture-time seconds between timeout sweeps (default: the configuration's,
                       0.25 s by default; 0 = off)
  --drop-malformed     drop malformed packets (default: pass and count)
  --counters           print every data-plane counter to stderr
  --model DIR          classify every flow with a model artifact (int32 MLP or tree): in the kernel
                       with --kernel, with the TypeScript oracle with --reference; fills verdict
                       and score (verdicts only: nothing is blocked)
  --config FILE        judge the capture as an agent with this configuration would (--kernel
                       only): its data-plane timeouts and early end, its allow list, its
                       in-kernel model (the first \`builtin: kernel\` model of pipeline.models)
                       and its block policy, blocks included: a blocked source's later packets
                       are dropped, and the blocked sources are listed. "default" = the
                       configuration an empty file gives. Flags given beside it win.
                       Without --config, flows are still cut by the default configuration's
                       rules (the ones the shipped model was trained on); nothing is blocked.

A damaged capture (cut short, a bad block) is replayed up to the damage, which is reported; the
exit status is then 3.

End of capture: a final timeout sweep at the last capture time, then every open flow is flushed
with end reason "eoc".

example:
  bun run xids replay ../shared/pcaps/chrissanders/synscan.pcapng --kernel --out flows.csv`,
  async run(args, ctx) {
    const f = parseFlags(args, spec);
    const [capture, ...extra] = f._;
    if (!capture) throw new UsageError("a capture file is required");
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (!!f.kernel === !!f.reference) throw new UsageError("choose exactly one of --kernel and --reference");
    const secs = (v: number | undefined, name: string): bigint | undefined => {
      if (v === undefined) return undefined;
      if (!(v >= 0)) throw new UsageError(`--${name} must be ≥ 0`);
      return BigInt(Math.round(v * 1e9));
    };
    const opts: ReplayOptions = {};
    const idle = secs(f["idle-timeout"], "idle-timeout");
    const active = secs(f["active-timeout"], "active-timeout");
    const sweep = secs(f["sweep-interval"], "sweep-interval");
    const tail = secs(f["tail-absorb"], "tail-absorb");
    if (tail !== undefined) opts.tailAbsorbNs = tail;
    if (idle !== undefined) opts.idleTimeoutNs = idle;
    if (active !== undefined) opts.activeTimeoutNs = active;
    if (sweep !== undefined) opts.sweepIntervalNs = sweep;
    if (f["early-end"] !== undefined) {
      if (!Number.isInteger(f["early-end"]) || f["early-end"] < 0) throw new UsageError("--early-end must be a packet count ≥ 0");
      opts.earlyEndPkts = f["early-end"];
    }
    if (f["drop-malformed"]) opts.dropMalformed = true;

    let model = f.model ? kernelModelOf(loadArtifact(f.model)) : undefined;
    let kernelOpts: Pick<KernelReplayOptions, "blocking" | "allow"> = {};
    if (f.config !== undefined && !f.kernel) throw new UsageError("--config judges in the kernel: use it with --kernel");
    // One set of flow rules: the configuration's (the default one without --config); flags win.
    const live = liveReplayOptions(f.config ?? "default", ctx.catalog);
    for (const [k, v] of Object.entries(live.flow)) if ((opts as Record<string, unknown>)[k] === undefined) (opts as Record<string, unknown>)[k] = v;
    if (f.config !== undefined) {
      kernelOpts = { blocking: live.blocking, allow: live.allow };
      if (!model && live.modelDir) model = kernelModelOf(loadArtifact(live.modelDir));
      console.error(`xids replay: as configured by ${f.config}: idle ${live.flow.idleTimeoutNs! / 1_000_000n} ms, active ${live.flow.activeTimeoutNs! / 1_000_000n} ms, early end ${live.flow.earlyEndPkts}, model ${live.modelDir ?? "none"}, ${live.blocking ? "blocking" : "alert only"}`);
    }
    // A damaged capture: every complete packet is replayed, the damage reported, the exit status 3.
    const { packets, damage } = salvageCapture(capture);
    const t0 = performance.now();
    const res = f.kernel ? replayKernel(packets, { ...opts, ...kernelOpts, ...(model ? { model } : {}) }) : replayReference(packets, opts);
    if (model && !f.kernel) classifyRecords(res.records, model);
    const ms = performance.now() - t0;
    const csv = toCsv(sortRecords(res.records));
    if (f.out) writeFileSync(f.out, csv);
    else process.stdout.write(csv);
    console.error(
      `xids replay (${f.kernel ? "kernel" : "reference"}): ${packets.length} packets` +
        (res.skipped ? ` (${res.skipped} runt frames skipped)` : "") +
        `, ${res.records.length} flows in ${ms.toFixed(0)} ms` +
        (model ? `, ${res.records.filter((r) => r.verdict === 2).length} classified as attacks` : "") +
        (f.out ? ` -> ${f.out}` : ""),
    );
    if (f.counters) {
      for (let i = 0; i < res.counters.length; i++) {
        if (res.counters[i]) console.error(`  ${COUNTER_NAMES[i]}: ${res.counters[i]}`);
      }
    }
    if ("blocks" in res && kernelOpts.blocking) {
      const blocks = (res as KernelReplayResult).blocks;
      console.error(`  blocked ${blocks.length} source(s), ${res.counters[Counter.drop_blocked]} packet(s) dropped from them`);
      for (const b of blocks) console.error(`    ${b.addr} (reason ${b.reason}${b.firstDropNs ? `, first drop ${((Number(b.firstDropNs - b.addedNs)) / 1e6).toFixed(1)} ms after the block` : ", no packet dropped"})`);
    }
    if (damage) {
      console.error(`xids replay: the capture is damaged: ${damage}; the ${packets.length} complete packets before it were replayed`);
      return 3;
    }
    return 0;
  },
};
