// Suricata's EVE JSON schema (test/fixtures/suricata-eve-schema.json, an excerpt of Suricata's own
// etc/schema.json) extended by the keys xids adds, and only those: every other key still fails
// its additionalProperties false. Tightened where xids promises more than Suricata's schema
// checks: the fields Suricata's tools read are required, alert.action is one of Suricata's two
// values, severity is 1..3.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { REPO } from "../core/util.ts";

/** xids's own keys, beside Suricata's, by the object they sit in. */
const XIDS_KEYS = {
  top: {
    detection_id: { type: "string" },
    // Suricata writes in_iface on live capture; this schema revision does not list it.
    in_iface: { type: "string" },
    features: { type: "object", additionalProperties: { type: ["integer", "null"] } },
    action: { type: "object", properties: { type: { type: "string" } }, required: ["type"] },
    // The alert-log's `explain`: the top features by contribution, or why the line has none.
    explanation: {
      oneOf: [
        {
          type: "object",
          properties: {
            method: { const: "shapley-permutation" },
            permutations: { type: "integer", minimum: 2 },
            score: { type: "integer" },
            baseline_score: { type: "integer" },
            top: {
              type: "array",
              minItems: 1,
              items: { type: "object", properties: { name: { type: "string" }, value: { type: "integer" }, contribution: { type: "number" } }, required: ["name", "value", "contribution"], additionalProperties: false },
            },
            others: { type: "number" },
            note: { type: "string" },
          },
          required: ["method", "permutations", "score", "baseline_score", "top", "others"],
          additionalProperties: false,
        },
        { type: "object", properties: { skipped: { type: "string", minLength: 1 } }, required: ["skipped"], additionalProperties: false },
      ],
    },
  },
  alert: {
    detector: { type: "string" },
    model: { type: "string" },
    model_version: { type: "integer" },
    label: { type: "string" },
    score: { type: "number" },
    verdict_source: { enum: ["kernel", "user-space"] },
  },
  flow: {
    family: { enum: [4, 6] },
    protocol: { type: "integer" },
    first_us: { type: "integer" },
    last_us: { type: "integer" },
    end_reason: { type: "string" },
    source: { type: "string" },
    record_id: { type: "integer" },
  },
};

export const SURICATA_REQUIRED = ["timestamp", "event_type", "flow_id", "in_iface", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "alert"];
export const SURICATA_ALERT_REQUIRED = ["action", "gid", "signature_id", "rev", "signature", "category", "severity"];

type Schema = { properties: Record<string, Schema>; required?: string[]; [k: string]: unknown };

export function suricataSchema(): Schema {
  return JSON.parse(readFileSync(join(REPO, "test/fixtures/suricata-eve-schema.json"), "utf8")) as Schema;
}

/** The schema an xids alert line must meet. */
export function xidsAlertSchema(): Schema {
  const schema = suricataSchema();
  const alert = schema.properties.alert!;
  const flow = schema.properties.flow!;
  Object.assign(schema.properties, XIDS_KEYS.top);
  Object.assign(alert.properties, XIDS_KEYS.alert);
  Object.assign(flow.properties, XIDS_KEYS.flow);
  schema.required = SURICATA_REQUIRED;
  schema.properties.event_type = { ...schema.properties.event_type!, const: "alert" } as Schema;
  alert.required = SURICATA_ALERT_REQUIRED;
  alert.properties.action = { ...alert.properties.action!, enum: ["allowed", "blocked"] } as Schema;
  alert.properties.severity = { ...alert.properties.severity!, minimum: 1, maximum: 3 } as Schema;
  return schema;
}

// strict off: Suricata's schema carries keywords no JSON Schema draft defines ("optional", and a
// misspelt "additionalProperites"); its own checker (Python jsonschema) ignores them, so does ajv.
const ajv = new Ajv({ strict: false, allErrors: true });

export type EveCheck = (line: unknown) => string[];

function checker(schema: Schema): EveCheck {
  const validate = ajv.compile(schema);
  return (line) => (validate(line) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? `: ${String(e.params.additionalProperty)}` : ""}`));
}

/** Suricata's schema as it is (with its own keys only). */
export const checkSuricata: EveCheck = checker(suricataSchema() as Schema);
/** Suricata's schema plus xids's keys and promises. */
export const checkXidsAlert: EveCheck = checker(xidsAlertSchema());
