// Webhook responder: POSTs each detection as JSON to a URL, signed with HMAC-SHA256 over the exact
// body bytes (header X-Xids-Signature: sha256=<hex>) when a shared secret is set. Deliveries run
// from a bounded queue: Handle acknowledges at once ("taken in charge") and never blocks the core;
// when the queue is full the detection is refused and counted as overflow. Each delivery has a
// timeout and is retried with exponential backoff on network errors, 408, 429 and 5xx.
import { createHmac } from "node:crypto";
import { Ack, Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { s, type Schema } from "../../../core/config/schema.ts";
import { readSecretFile } from "../../../core/util/secrets.ts";
import { definePlugin, type Logger } from "../../../core/plugin-api/types.ts";
import { coreServices } from "../../../core/plugin-api/services.ts";
import { pluginInfo, serving, notServing } from "../../../core/plugin-api/info.ts";

const webhookFields = s.object({
  url: s.string({
    expected: "an http:// or https:// URL",
    check: (v) => {
      try {
        const u = new URL(v);
        return u.protocol === "http:" || u.protocol === "https:" ? null : `scheme ${u.protocol} is not http or https`;
      } catch {
        return "not a URL";
      }
    },
  }),
  /** Shared HMAC secret (≥ 16 characters), or a file holding it; neither = unsigned. */
  secret: s.optional(s.string({ min: 16, expected: "a secret of at least 16 characters" })),
  secret_file: s.optional(s.string({ min: 1, expected: "a file path" })),
  timeout_ms: s.default(s.int({ min: 1, max: 120_000 }), 2_000),
  /** Attempts after the first one. */
  retries: s.default(s.int({ min: 0, max: 20 }), 3),
  backoff_ms: s.default(s.int({ min: 1, max: 60_000 }), 200),
  max_backoff_ms: s.default(s.int({ min: 1, max: 600_000 }), 5_000),
  queue_size: s.default(s.int({ min: 1, max: 1_000_000 }), 1_000),
  /** Deliveries in parallel. */
  concurrency: s.default(s.int({ min: 1, max: 64 }), 2),
  headers: s.default(s.record(s.string()), {}),
});

type WebhookFields = NonNullable<ReturnType<typeof webhookFields.check>>;

/** The fields, and at most one source of the secret. */
export const webhookConfig: Schema<WebhookFields> = {
  ...webhookFields,
  check(v, path, issues) {
    const out = webhookFields.check(v, path, issues);
    if (out?.secret !== undefined && out.secret_file !== undefined) issues.add(path, "expected at most one of 'secret' or 'secret_file'");
    return out;
  },
};

export type WebhookConfig = WebhookFields;

export const SIGNATURE_HEADER = "x-xids-signature";

export function sign(secret: string, body: string | Uint8Array): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

export interface WebhookStats {
  queued: number;
  delivered: number;
  failed: number;
  retries: number;
  overflow: number;
}

/** The delivery engine, separate from the plugin wiring so it can be tested on its own. */
export class WebhookSender {
  readonly stats: WebhookStats = { queued: 0, delivered: 0, failed: 0, retries: 0, overflow: 0 };
  private readonly queue: string[] = [];
  private active = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  private readonly secret: string | undefined;

  constructor(
    private readonly cfg: WebhookConfig,
    private readonly log: Logger,
  ) {
    this.secret = cfg.secret ?? (cfg.secret_file ? readSecretFile(cfg.secret_file, "secret_file") : undefined);
    if (this.secret !== undefined && this.secret.length < 16) throw new Error(`secret_file: the secret in ${cfg.secret_file} must be at least 16 characters`);
  }

  /** False (and counted as overflow) when the queue is full. */
  enqueue(body: string): boolean {
    if (this.closed || this.queue.length >= this.cfg.queue_size) {
      this.stats.overflow++;
      return false;
    }
    this.queue.push(body);
    this.stats.queued = this.queue.length;
    this.pump();
    return true;
  }

  private pump(): void {
    while (this.active < this.cfg.concurrency && this.queue.length > 0) {
      const body = this.queue.shift()!;
      this.stats.queued = this.queue.length;
      this.active++;
      void this.deliver(body).finally(() => {
        this.active--;
        this.pump();
        if (this.active === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
      });
    }
  }

  private async deliver(body: string): Promise<void> {
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "xids-webhook/1", ...this.cfg.headers };
    if (this.secret) headers[SIGNATURE_HEADER] = sign(this.secret, body);
    let lastErr = "";
    for (let attempt = 0; attempt <= this.cfg.retries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await Bun.sleep(Math.min(this.cfg.backoff_ms * 2 ** (attempt - 1), this.cfg.max_backoff_ms));
      }
      try {
        const res = await fetch(this.cfg.url, { method: "POST", headers, body, signal: AbortSignal.timeout(this.cfg.timeout_ms) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.stats.delivered++;
          return;
        }
        lastErr = `HTTP ${res.status}`;
        if (!(res.status === 408 || res.status === 429 || res.status >= 500)) break; // not retryable
      } catch (err) {
        lastErr = (err as Error).name === "TimeoutError" ? `timed out after ${this.cfg.timeout_ms} ms` : (err as Error).message;
      }
    }
    this.stats.failed++;
    this.log.warn(`delivery to ${this.cfg.url} failed: ${lastErr}`);
  }

  /** Resolves when nothing is queued or in flight (or after `ms`). */
  drain(ms: number): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    this.stats.overflow += this.queue.length; // abandoned at shutdown: counted, not silent
    this.queue.length = 0;
    this.stats.queued = 0;
  }
}

/** The webhook's metrics: its own counters, each series labelled with the plugin id. */
const METRICS: Record<keyof WebhookStats, { type: "counter" | "gauge"; name: string; help: string }> = {
  queued: { type: "gauge", name: "xids_responder_queued", help: "Deliveries waiting in the responder's queue." },
  delivered: { type: "counter", name: "xids_responder_delivered_total", help: "Detections the responder delivered." },
  failed: { type: "counter", name: "xids_responder_failed_total", help: "Deliveries that failed after every retry." },
  retries: { type: "counter", name: "xids_responder_retries_total", help: "Delivery retries (exponential backoff)." },
  overflow: { type: "counter", name: "xids_responder_overflow_total", help: "Detections refused because the responder's bounded queue was full." },
};

export const webhookResponder = () => {
  let sender: WebhookSender | null = null;
  return definePlugin({
    name: "webhook",
    kind: "responder",
    description: "POST each detection as signed JSON to a URL",
    config: webhookConfig,
    deps: { metrics: coreServices.metrics },
    async init(ctx) {
      const snd = new WebhookSender(ctx.config, ctx.log);
      sender = snd;
      for (const [stat, m] of Object.entries(METRICS) as [keyof WebhookStats, (typeof METRICS)[keyof WebhookStats]][]) {
        ctx.deps.metrics.read(m.name, m.help, m.type, () => snd.stats[stat]);
      }
      return {
        describe: async () =>
          pluginInfo(ctx.id, "responder", "1", "signed JSON webhook", {
            url: ctx.config.url,
            signed: String(Boolean(ctx.config.secret ?? ctx.config.secret_file)),
            ...Object.fromEntries(Object.entries(snd.stats).map(([k, v]) => [k, String(v)])),
          }),
        health: async () => (snd.stats.queued >= ctx.config.queue_size ? notServing("queue full") : serving()),
        async handle(d) {
          const ok = snd.enqueue(JSON.stringify(Detection.toJSON(d)));
          return Ack.create(ok ? { accepted: true } : { accepted: false, message: `queue full (${snd.stats.overflow} dropped so far)` });
        },
      };
    },
    async stop() {
      if (!sender) return;
      await sender.drain(1_000);
      sender.close();
    },
  });
};
