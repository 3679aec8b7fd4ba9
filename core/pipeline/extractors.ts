// Flow sources: every extractor plugin's stream feeds the pipeline. A record that breaks the
// contract (contract.ts) is refused, counted against the extractor and logged. The core gives each
// record its id (unique within this run, so a batch answer can refer back to it) and stamps the
// extractor's id as the record's source when it gave none. A stream that fails is reopened after
// a pause and the failure logged; a stream the plugin ends cleanly is not reopened.
import type { FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { PluginHost } from "../host/host.ts";
import { throttled, type ScopedLogger } from "../util/log.ts";
import { recordViolation } from "./contract.ts";
import { FEATURE_SETS } from "../ebpf/abi.ts";

const REOPEN_MS = 500;
let nextId = 1;

export function openExtractorStreams(host: PluginHost, sink: (r: FlowRecord) => void, log: ScopedLogger): () => void {
  let stopping = false;
  const stops: (() => void)[] = [];
  const warn = throttled((m) => log.warn(m));
  for (const id of host.ids("extractor")) {
    const plog = log.child(id);
    let stop = () => {};
    const open = () => {
      if (stopping) return;
      // Not running (yet: a start retried under degrade, a restart): look again shortly.
      const api = host.api(id, "extractor");
      if (!api) return void setTimeout(open, REOPEN_MS);
      stop = api.stream(
        (r) => {
          const why = recordViolation(r);
          if (why) return (host.fault(id, `record refused: ${why}`), warn(id, `extractor ${id}: record refused: ${why}`));
          r.id = nextId++;
          r.featureSet ||= FEATURE_SETS[r.features.length]!;
          if (!r.source) r.source = id;
          sink(r);
        },
        (err) => {
          plog.warn(`flow stream ended: ${err.message}; reopening in ${REOPEN_MS} ms`);
          setTimeout(open, REOPEN_MS);
        },
      );
    };
    open();
    stops.push(() => stop());
  }
  return () => {
    stopping = true;
    for (const s of stops) s();
  };
}
