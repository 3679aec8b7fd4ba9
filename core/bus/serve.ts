// Serves plugin APIs on the bus. External plugins (any language) implement the proto services
// themselves; a TypeScript plugin uses this to turn its in-process API into a gRPC server, which
// is also how the conformance suite exercises the built-ins over the wire.
import { chmodSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { ConfigureRequest, ConfigureResponse, FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { FeatureExtractorService, type FeatureExtractorServer } from "../../proto/gen/xids/plugin/v1/extractor.ts";
import { ClassifyResponse, ModelBackendService, UpdateResponse, type ModelBackendServer } from "../../proto/gen/xids/plugin/v1/model.ts";
import { Ack, Detection, ResponderService, type ResponderServer } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { ExtractorApi, ModelApi, ResponderApi } from "../plugin-api/types.ts";
import type { ArtifactLoader } from "../plugin-api/services.ts";
import { RpcError, bindServer, shutdownServer, toServiceError, unary, unixPath } from "./grpc.ts";

export interface PluginServer {
  address: string;
  close(): Promise<void>;
}

/** Configure for any API: UNIMPLEMENTED when the plugin takes none; its throw is INVALID_ARGUMENT. */
function configureOf(api: { configure?(id: string, config: unknown): Promise<void> }) {
  return unary(async (req: ConfigureRequest) => {
    if (!api.configure) throw new RpcError(grpc.status.UNIMPLEMENTED, "this plugin takes no configuration");
    await api.configure(req.pluginId, JSON.parse(req.configJson || "{}")).catch((e: Error) => Promise.reject(e instanceof RpcError ? e : new RpcError(grpc.status.INVALID_ARGUMENT, e.message)));
    return ConfigureResponse.create();
  });
}

/** With `artifacts`, Update loads and checks the artifact and hands it to api.update; without it
 *  (or without api.update) Update answers UNIMPLEMENTED. */
export function modelService(api: ModelApi, artifacts?: ArtifactLoader): ModelBackendServer {
  return {
    describe: unary(() => api.describe()),
    health: unary(() => api.health()),
    configure: configureOf(api),
    classify: unary(async (req) => ClassifyResponse.create({ results: await api.classify(req.records) })),
    update: unary(async (req) => {
      if (!api.update || !artifacts) throw new RpcError(grpc.status.UNIMPLEMENTED, "this model cannot be updated live");
      const artifact = await artifacts.load(req.artifactDir).catch((err: Error) => Promise.reject(new RpcError(grpc.status.INVALID_ARGUMENT, err.message)));
      return UpdateResponse.create(await api.update(artifact));
    }),
  };
}

export function responderService(api: ResponderApi): ResponderServer {
  return {
    describe: unary(() => api.describe()),
    health: unary(() => api.health()),
    configure: configureOf(api),
    handle: unary(async (d: Detection) => Ack.fromPartial(await api.handle(d))),
  };
}

export function extractorService(api: ExtractorApi): FeatureExtractorServer {
  return {
    describe: unary(() => api.describe()),
    health: unary(() => api.health()),
    configure: configureOf(api),
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
export async function servePlugin(address: string, apis: { model?: ModelApi; responder?: ResponderApi; extractor?: ExtractorApi; artifacts?: ArtifactLoader }): Promise<PluginServer> {
  const server = new grpc.Server();
  if (apis.model) server.addService(ModelBackendService, modelService(apis.model, apis.artifacts));
  if (apis.responder) server.addService(ResponderService, responderService(apis.responder));
  if (apis.extractor) server.addService(FeatureExtractorService, extractorService(apis.extractor));
  const port = await bindServer(server, address, grpc.ServerCredentials.createInsecure());
  const path = unixPath(address);
  if (path) chmodSync(path, 0o600);
  const bound = path ? address : address.replace(/:0$/, `:${port}`);
  return { address: bound, close: () => shutdownServer(server) };
}
