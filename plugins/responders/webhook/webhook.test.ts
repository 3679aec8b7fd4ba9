import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { SIGNATURE_HEADER, webhookResponder } from "./index.ts";
import { sampleDetection } from "../../../test/conformance/conformance.ts";
import { startBuiltin, waitFor } from "../../../test/core/util.ts";

const SECRET = "a-shared-secret-of-some-length";

describe("webhook responder", () => {
  test("POSTs the detection as JSON with an HMAC-SHA256 signature over the exact body", async () => {
    const got: { body: string; sig: string | null; type: string | null }[] = [];
    const http = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        got.push({ body: await req.text(), sig: req.headers.get(SIGNATURE_HEADER), type: req.headers.get("content-type") });
        return new Response("ok");
      },
    });
    try {
      const api = await startBuiltin(webhookResponder(), { url: `http://127.0.0.1:${http.port}/x`, secret: SECRET });
      const d = sampleDetection();
      expect((await api.handle(d)).accepted).toBe(true);
      await waitFor("the delivery", () => got.length === 1, 5_000);
      const { body, sig, type } = got[0]!;
      expect(type).toBe("application/json");
      expect(sig).toBe("sha256=" + createHmac("sha256", SECRET).update(body).digest("hex"));
      const json = JSON.parse(body);
      expect(json.id).toBe(d.id);
      expect(json.record.srcAddr).toBe("198.18.0.9");
      expect(json.classification.label).toBe("PortScan");
    } finally {
      http.stop(true);
    }
  });

  test("retries 5xx with exponential backoff, gives up on 4xx, times out a hung server", async () => {
    const times: number[] = [];
    let mode: "flaky" | "reject" | "hang" = "flaky";
    const http = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch() {
        times.push(performance.now());
        if (mode === "reject") return new Response("no", { status: 400 });
        if (mode === "hang") return new Promise<Response>(() => {});
        return times.length < 3 ? new Response("busy", { status: times.length === 1 ? 500 : 503 }) : new Response("ok");
      },
    });
    try {
      const api = await startBuiltin(webhookResponder(), { url: `http://127.0.0.1:${http.port}/x`, retries: 3, backoff_ms: 50, timeout_ms: 200 });
      const stats = async () => (await api.describe()).properties;
      await api.handle(sampleDetection());
      await waitFor("delivery after two retries", async () => (await stats()).delivered === "1", 5_000);
      expect(times.length).toBe(3);
      const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
      expect(gaps[0]).toBeGreaterThanOrEqual(45);
      expect(gaps[1]).toBeGreaterThanOrEqual(95); // doubled
      expect((await stats()).retries).toBe("2");

      mode = "reject";
      times.length = 0;
      await api.handle(sampleDetection());
      await waitFor("the 400 to fail without retry", async () => (await stats()).failed === "1", 5_000);
      expect(times.length).toBe(1);

      mode = "hang";
      times.length = 0;
      await api.handle(sampleDetection());
      await waitFor("the hung deliveries to fail", async () => (await stats()).failed === "2", 5_000);
      expect(times.length).toBe(4); // first attempt + 3 retries
      // Each retry starts only after the previous attempt was cut by its 200 ms timeout (plus the
      // backoff): the timeout is what ends a hung delivery.
      for (let i = 1; i < 4; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200 + 50 * 2 ** (i - 1) - 5);
    } finally {
      http.stop(true);
    }
  });

  test("a full queue refuses and counts the overflow, without blocking the caller", async () => {
    let requests = 0;
    const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (requests++, new Promise<Response>(() => {})) });
    try {
      const api = await startBuiltin(webhookResponder(), { url: `http://127.0.0.1:${http.port}/x`, queue_size: 2, concurrency: 1, retries: 0, timeout_ms: 5_000 });
      const acks = [];
      for (let i = 0; i < 6; i++) acks.push(await api.handle(sampleDetection()));
      // Every Handle returned while the first delivery still hangs (the receiver never answers,
      // the attempt has a 5 s timeout): Handle does not wait for delivery.
      const now = (await api.describe()).properties;
      expect([now.delivered, now.failed]).toEqual(["0", "0"]);
      expect(requests).toBeLessThanOrEqual(1);
      // One in flight, two queued, three refused.
      expect(acks.map((a) => a.accepted)).toEqual([true, true, true, false, false, false]);
      expect(acks[5]!.message).toBe("queue full (3 dropped so far)");
      expect((await api.describe()).properties.overflow).toBe("3");
      expect((await api.health()).status).toBe(2);
    } finally {
      http.stop(true);
    }
  });
});
