// Serves plugin APIs on the bus. External plugins (any language) implement the proto services
// themselves; a TypeScript plugin uses this to turn its in-process API into a gRPC server, which
// is also how the conformance suite exercises the built-ins over the wire.
import { chmodSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { Classification, FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { FeatureExtractorService, type FeatureExtractorServer } from "../../proto/gen/xids/plugin/v1/extractor.ts";
import { ClassifyResponse, ModelBackendService, type ModelBackendServer } from "../../proto/gen/xids/plugin/v1/model.ts";
import { Ack, Detection, ResponderService, type ResponderServer } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { ExtractorApi, ModelApi, ResponderApi } from "../plugin-api/types.ts";
import { RpcError, bindServer, shutdownServer, toServiceError, unary, unixPath } from "./grpc.ts";

export interface PluginServer {
  address: string;
  close(): Promise<void>;
}

export function modelService(api: ModelApi): ModelBackendServer {
  return {
    describe: unary(() => api.describe()),
    health: unary(() => api.health()),
    classify: unary(async (req) => ClassifyResponse.create({ results: await api.classify(req.records) })),
    classifyStream(stream) {
      // Answers in order: each record waits for the previous answer (a simple, ordered pipeline).
      let chain = Promise.resolve();
      let failed = false;
      stream.on("data", (record: FlowRecord) => {
        chain = chain.then(async () => {
          if (failed) return;
          try {
            const [result] = await api.classify([record]);
            if (!result) throw new RpcError(grpc.status.INTERNAL, "model returned no result");
            stream.write(Classification.fromPartial(result));
          } catch (err) {
            failed = true;
            stream.emit("error", toServiceError(err));
          }
        });
      });
      stream.on("end", () => void chain.then(() => !failed && stream.end()));
    },
  };
}

export function responderService(api: ResponderApi): ResponderServer {
  return {
    describe: unary(() => api.describe()),
    health: unary(() => api.health()),
    handle: unary(async (d: Detection) => Ack.fromPartial(await api.handle(d))),
  };
}

export function extractorService(api: ExtractorApi): FeatureExtractorServer {
  return {
    describe: unary(() => api.describe()),
    health: unary(() => api.health()),
    streamFlows(stream) {
      const stop = api.stream(
        (r) => stream.write(FlowRecord.fromPartial(r)),
        (err) => stream.emit("error", toServiceError(err)),
      );
      stream.on("cancelled", stop);
      stream.on("close", stop);
    },
  };
}

/** Serves the given APIs at `address` ("unix:/path" gets mode 0600, or "127.0.0.1:port"). */
export async function servePlugin(address: string, apis: { model?: ModelApi; responder?: ResponderApi; extractor?: ExtractorApi }): Promise<PluginServer> {
  const server = new grpc.Server();
  if (apis.model) server.addService(ModelBackendService, modelService(apis.model));
  if (apis.responder) server.addService(ResponderService, responderService(apis.responder));
  if (apis.extractor) server.addService(FeatureExtractorService, extractorService(apis.extractor));
  const port = await bindServer(server, address, grpc.ServerCredentials.createInsecure());
  const path = unixPath(address);
  if (path) chmodSync(path, 0o600);
  const bound = path ? address : address.replace(/:0$/, `:${port}`);
  return { address: bound, close: () => shutdownServer(server) };
}
