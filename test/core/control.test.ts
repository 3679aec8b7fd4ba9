import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import { connectControl, rpcMessage, type Control } from "../../client/control.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import { Verdict } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { WatchEvent } from "../../proto/gen/xids/control/v1/control.ts";
import { sampleRecords } from "../conformance/conformance.ts";
import { REPO, TempDir, quietLog, waitFor } from "./util.ts";

const TOKEN = "test-token-0123456789";
let dir: TempDir;
let agent: Agent;
let dp: MemoryDataPlane;
let c: Control;

async function rejects(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return rpcMessage(err);
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  dir = new TempDir();
  const r = checkConfig(
    {
      control: { socket: dir.file("run/ctl.sock"), tcp: { listen: "127.0.0.1:0", token: TOKEN } },
      pipeline: { models: ["kernel-mlp", "dt"], responders: ["xdp-drop"], batch_wait_ms: 1 },
      plugins: [
        { id: "kernel-mlp", kind: "model", builtin: "kernel" },
        { id: "dt", kind: "model", builtin: "artifact", config: { artifact: join(REPO, "models/artifacts/dt") } },
        { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
      ],
      watch: { queue_size: 64 },
    },
    builtinCatalog,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  dp = new MemoryDataPlane();
  agent = await Agent.start(r.config, { ...builtins, dataplane: dp, log: quietLog });
  c = connectControl({ socket: dir.file("run/ctl.sock") });
});

afterAll(async () => {
  c?.close();
  await agent?.stop();
  dir?.[Symbol.dispose]();
});

describe("control API", () => {
  test("listens on a unix socket with mode 0600 in a 0700 directory", () => {
    expect(statSync(dir.file("run/ctl.sock")).mode & 0o777).toBe(0o600);
    expect(statSync(dir.file("run")).mode & 0o777).toBe(0o700);
  });

  test("block, list, unblock, allow, disallow", async () => {
    const b = await c.block("198.18.0.9", 600, 3);
    expect(b.entry).toMatchObject({ address: "198.18.0.9", reason: 3, expiresInMs: 600_000 });
    await c.block("2001:2:0:0::9");
    const hosts = (await c.listBlocked()).hosts;
    expect(hosts.map((h) => [h.address, h.reason, h.expiresInMs > 0])).toEqual([
      ["198.18.0.9", 3, true],
      ["2001:2::9", 0, false],
    ]);
    expect((await c.unblock("198.18.0.9")).removed).toBe(true);
    expect((await c.unblock("198.18.0.9")).removed).toBe(false);
    expect((await c.unblock("2001:2::9")).removed).toBe(true);
    expect((await c.listBlocked()).hosts).toEqual([]);
    expect((await c.allow("198.18.7.7/15")).cidr).toBe("198.18.0.0/15");
    expect(dp.listAllowed()).toEqual(["198.18.0.0/15"]);
    expect((await c.disallow("198.18.0.0/15")).removed).toBe(true);
    expect((await c.disallow("198.18.0.0/15")).removed).toBe(false);
  });

  test("allowing a CIDR lifts exactly the blocks inside it (IPv4 /24, IPv6 /48), says how many, and they stay allowed", async () => {
    for (const a of ["198.18.3.1", "198.18.3.200", "198.18.4.1", "2001:2:3::1", "2001:2:3:ffff::2", "2001:2:4::1"]) await c.block(a, 600, 1);
    expect(await c.allow("198.18.3.0/24")).toEqual({ cidr: "198.18.3.0/24", unblocked: 2 });
    expect(await c.allow("2001:2:3::/48")).toEqual({ cidr: "2001:2:3::/48", unblocked: 2 });
    expect((await c.listBlocked()).hosts.map((h) => h.address)).toEqual(["198.18.4.1", "2001:2:4::1"]);
    // Inside an allowed prefix a block is refused; outside it is not.
    expect(await rejects(c.block("198.18.3.77"))).toBe("FAILED_PRECONDITION: address: 198.18.3.77 is on the allow list (198.18.3.0/24) and is never blocked; disallow it first");
    expect(await rejects(c.block("2001:2:3:1::7"))).toBe("FAILED_PRECONDITION: address: 2001:2:3:1::7 is on the allow list (2001:2:3::/48) and is never blocked; disallow it first");
    for (const cidr of ["198.18.3.0/24", "2001:2:3::/48"]) expect((await c.disallow(cidr)).removed).toBe(true);
    for (const a of ["198.18.4.1", "2001:2:4::1"]) expect((await c.unblock(a)).removed).toBe(true);
  });

  test("addresses that are never a source to block are refused with the reason; IPv4-mapped IPv6 is the IPv4 host", async () => {
    const refusals: [string, string][] = [
      ["127.0.0.1", "a loopback address"],
      ["0.0.0.0", "an unspecified (this-network) address"],
      ["255.255.255.255", "the broadcast address"],
      ["224.0.0.1", "a multicast address"],
      ["169.254.1.1", "a link-local address"],
      ["fe80::1", "a link-local address (neighbour discovery and routers use these)"],
      ["ff02::1", "a multicast address"],
      ["::1", "the loopback address"],
      ["::", "the unspecified address"],
    ];
    for (const [a, why] of refusals) expect(await rejects(c.block(a))).toBe(`FAILED_PRECONDITION: address: ${a} is ${why} and is never blocked`);
    expect((await c.block("::ffff:198.18.3.9", 60, 1)).entry?.address).toBe("198.18.3.9");
    expect((await c.listBlocked()).hosts.map((h) => h.address)).toEqual(["198.18.3.9"]);
    expect((await c.unblock("198.18.3.9")).removed).toBe(true);
    expect((await c.listBlocked()).hosts).toEqual([]);
  });

  test("bad requests fail with INVALID_ARGUMENT and the reason, and change nothing", async () => {
    await c.block("198.18.0.1", 0, 1);
    const before = JSON.stringify([(await c.listBlocked()).hosts.map((h) => [h.address, h.reason]), dp.listAllowed(), (await c.status()).modelVersion]);
    expect(await rejects(c.block(""))).toBe("INVALID_ARGUMENT: address: required: expected an IPv4 or IPv6 host address");
    expect(await rejects(c.block("198.18.0.300"))).toBe('INVALID_ARGUMENT: address: expected an IPv4 or IPv6 host address, got "198.18.0.300" (not an IPv4 or IPv6 address)');
    expect(await rejects(c.block("198.18.0.0/15"))).toBe('INVALID_ARGUMENT: address: expected an IPv4 or IPv6 host address, got "198.18.0.0/15" (a host address has no prefix length)');
    expect(await rejects(c.block("198.18.0.1", 40_000_000))).toBe("INVALID_ARGUMENT: ttl_seconds: expected at most 31536000 (one year; 0 = permanent), got 40000000");
    expect(await rejects(c.block("198.18.0.1", 10, 16))).toBe("INVALID_ARGUMENT: reason: expected an integer in [0, 15], got 16");
    expect(await rejects(c.unblock("host.example"))).toBe('INVALID_ARGUMENT: address: expected an IPv4 or IPv6 host address, got "host.example" (not an IPv4 or IPv6 address)');
    expect(await rejects(c.allow("198.18.0.0/33"))).toBe(
      "INVALID_ARGUMENT: cidr: expected a CIDR such as 198.18.0.0/15 or 2001:2::/48, got \"198.18.0.0/33\" (prefix length must be an integer in [0, 32], got '33')",
    );
    expect(await rejects(c.disallow(""))).toBe("INVALID_ARGUMENT: cidr: required: expected a CIDR such as 198.18.0.0/15 or 2001:2::/48");
    expect(await rejects(c.pushModel("models/artifacts/dt"))).toBe('INVALID_ARGUMENT: artifact_path: expected an absolute path, got "models/artifacts/dt"');
    expect(await rejects(c.pushModel(join(REPO, "models/artifacts/dt"), "nope"))).toBe('INVALID_ARGUMENT: target: no model plugin "nope" (running: kernel-mlp, dt)');
    expect(await rejects(c.pushModel(dir.file("missing"), "dt"))).toBe(`INVALID_ARGUMENT: artifact_path: invalid model artifact ${dir.file("missing")}: folder does not exist`);
    // A broken artifact: a valid one with its tree file damaged.
    const broken = dir.file("broken-dt");
    cpSync(join(REPO, "models/artifacts/dt"), broken, { recursive: true });
    writeFileSync(join(broken, "tree.json"), "{ not json");
    expect(await rejects(c.pushModel(broken, "dt"))).toMatch(/^INVALID_ARGUMENT: artifact_path: invalid model artifact .*broken-dt: tree.json is not valid JSON/);
    expect(await rejects(c.pushModel(join(REPO, "models/artifacts/xgb"), "kernel-mlp"))).toBe(
      `FAILED_PRECONDITION: plugin "kernel-mlp" update: the kernel runs mlp-int32, dt or gbt artifacts, ${join(REPO, "models/artifacts/xgb")} is xgb`,
    );
    const after = JSON.stringify([(await c.listBlocked()).hosts.map((h) => [h.address, h.reason]), dp.listAllowed(), (await c.status()).modelVersion]);
    expect(after).toBe(before);
    await c.unblock("198.18.0.1");
  });

  test("PushModel hot-swaps a model; status and Describe report it", async () => {
    const r = await c.pushModel(join(REPO, "models/artifacts/dt"), "dt");
    expect(r).toMatchObject({ target: "dt", model: "dt:dt", version: 2 });
    const st = await c.status();
    expect(st.plugins.map((p) => [p.id, p.state])).toEqual([
      ["kernel-mlp", "running"],
      ["dt", "running"],
      ["xdp-drop", "running"],
    ]);
  });

  test("TCP needs the bearer token", async () => {
    const addr = agent.controlTcp!;
    expect(addr).toMatch(/^127\.0\.0\.1:\d+$/);
    const anon = connectControl({ address: addr });
    const wrong = connectControl({ address: addr, token: "x".repeat(21) });
    const good = connectControl({ address: addr, token: TOKEN });
    try {
      expect(await rejects(anon.status())).toBe("UNAUTHENTICATED: missing or wrong bearer token (metadata 'authorization: Bearer <token>')");
      expect(await rejects(wrong.block("198.18.0.5"))).toMatch(/^UNAUTHENTICATED/);
      expect((await c.listBlocked()).hosts).toEqual([]);
      expect((await good.status()).state).toBe("running");
    } finally {
      anon.close();
      wrong.close();
      good.close();
    }
  });

  test("Watch: two clients get every detection; a slow client gets lost-event messages and does not stall the core", async () => {
    expect(await rejects(new Promise((res, rej) => c.watch({ detections: false, flows: false }, () => {}, (e) => (e ? rej(e) : res(null)))))).toBe(
      "INVALID_ARGUMENT: detections/flows: expected at least one of detections or flows to be true",
    );
    const fast: WatchEvent[] = [];
    const slow: WatchEvent[] = [];
    const c2 = connectControl({ socket: dir.file("run/ctl.sock") });
    const s1 = c.watch({ detections: true, flows: false }, (e) => fast.push(e), () => {});
    const s2 = c2.watch({ detections: true, flows: false }, (e) => slow.push(e), () => {});
    try {
      await waitFor("two watch clients", () => agent.watch.size === 2);
      s2.pause(); // the slow client stops reading
      const N = 4000;
      const attack = sampleRecords(1)[2]!;
      for (let i = 0; i < N; i += 20) {
        for (let k = 0; k < 20; k++) agent.ingest({ ...attack, id: 1_000_000 + i + k, kernelVerdict: Verdict.VERDICT_ATTACK, kernelScore: 7 });
        await agent.whenIdle();
        await Bun.sleep(1);
      }
      // The core was never held up by the slow client: the fast one gets everything while the
      // slow one is still paused.
      await waitFor("the fast client to see every detection", () => fast.length >= N, 20_000);
      expect(fast.length).toBe(N);
      expect(fast.every((e) => e.event?.$case === "detection")).toBe(true);
      expect(fast.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(agent.counters.detections).toBeGreaterThanOrEqual(N);
      s2.resume();
      await waitFor("the slow client to catch up", () => {
        const last = slow[slow.length - 1];
        return last !== undefined && last.seq === N;
      }, 20_000);
      const got = slow.filter((e) => e.event?.$case === "detection").length;
      const lostMsgs = slow.filter((e) => e.event?.$case === "lost");
      const lost = lostMsgs.reduce((n, e) => n + (e.event?.$case === "lost" ? e.event.value.count : 0), 0);
      expect(lostMsgs.length).toBeGreaterThan(0);
      expect(got + lost).toBe(N);
      expect((await c.getStats()).watchLost).toBe(lost);
    } finally {
      s1.cancel();
      s2.cancel();
      c2.close();
    }
    await waitFor("watch clients to go", () => agent.watch.size === 0);
  });
});

describe("control API watch filters", () => {
  test("flows-only and both: each client gets what it asked for, in order", async () => {
    const flowsOnly: WatchEvent[] = [];
    const both: WatchEvent[] = [];
    const c2 = connectControl({ socket: dir.file("run/ctl.sock") });
    const c3 = connectControl({ socket: dir.file("run/ctl.sock") });
    const s1 = c2.watch({ detections: false, flows: true }, (e) => flowsOnly.push(e), () => {});
    const s2 = c3.watch({ detections: true, flows: true }, (e) => both.push(e), () => {});
    try {
      await waitFor("two watch clients", () => agent.watch.size === 2);
      const recs = sampleRecords(500);
      recs[2]!.kernelVerdict = Verdict.VERDICT_ATTACK;
      for (const r of recs) agent.ingest(r);
      await agent.whenIdle();
      const detected = () => both.filter((e) => e.event?.$case === "detection").map((e) => (e.event?.$case === "detection" ? e.event.value : null)!);
      await waitFor("events", () => flowsOnly.length === 5 && detected().some((d) => d.record?.id === 502), 5_000);
      expect(flowsOnly.map((e) => e.event?.$case === "flow" && e.event.value.id)).toEqual([500, 501, 502, 503, 504]);
      // Every flow first, then the detections (the kernel's verdict on 502, and any the tree made).
      expect(both.slice(0, 5).map((e) => e.event?.$case)).toEqual(["flow", "flow", "flow", "flow", "flow"]);
      expect(both.slice(5).every((e) => e.event?.$case === "detection")).toBe(true);
      expect(detected().find((d) => d.record?.id === 502)?.detector).toBe("kernel-mlp");
    } finally {
      s1.cancel();
      s2.cancel();
      c2.close();
      c3.close();
    }
    await waitFor("watch clients to go", () => agent.watch.size === 0);
  });
});

describe("control socket ownership", () => {
  test("a second core does not steal the socket of a running one; a stale socket is replaced", async () => {
    const r = checkConfig({ control: { socket: dir2().file("ctl.sock") }, plugins: [] }, builtinCatalog);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const first = await Agent.start(r.config, { ...builtins, dataplane: new MemoryDataPlane(), log: quietLog });
    try {
      const err = await Agent.start(r.config, { ...builtins, dataplane: new MemoryDataPlane(), log: quietLog }).then(
        () => "started",
        (e: Error) => e.message,
      );
      expect(err).toBe(`control API: control socket ${r.config.control.socket} is in use (another xids is running)`);
      const probe = connectControl({ socket: r.config.control.socket });
      expect((await probe.status()).state).toBe("running");
      probe.close();
    } finally {
      await first.stop();
    }
  });
});

let tmp2: TempDir | null = null;
function dir2(): TempDir {
  tmp2 ??= new TempDir();
  return tmp2;
}
afterAll(() => tmp2?.[Symbol.dispose]());
