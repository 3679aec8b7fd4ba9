// Clients of the plugin bus: an external plugin behind a gRPC address, presented through the same
// APIs as an in-process built-in (core/plugin-api/types.ts). Every call has a deadline.
import * as grpc from "@grpc/grpc-js";
import { ConfigureRequest, DescribeRequest, FlowRecord, HealthRequest, type HealthResponse, type PluginInfo } from "../../proto/gen/xids/plugin/v1/common.ts";
import { FeatureExtractorClient, StreamFlowsRequest } from "../../proto/gen/xids/plugin/v1/extractor.ts";
import { ClassifyRequest, ModelBackendClient, UpdateRequest } from "../../proto/gen/xids/plugin/v1/model.ts";
import { Detection, ResponderClient } from "../../proto/gen/xids/plugin/v1/responder.ts";
import type { ApiByKind, ExtractorApi, ModelApi, PluginKindName, ResponderApi } from "../plugin-api/types.ts";
import { CHANNEL_OPTIONS, call } from "./grpc.ts";

export interface RemoteOptions {
  timeoutMs: number;
}

type AnyClient = ModelBackendClient | ResponderClient | FeatureExtractorClient;

/** The plugin does not implement an optional call (gRPC UNIMPLEMENTED); the message is its reason. */
export class Unimplemented extends Error {}

/** `call`, with UNIMPLEMENTED turned into Unimplemented: the optional calls' "I can't". */
const optional: typeof call = (method, req, opts) =>
  call(method, req, opts).catch((e: grpc.ServiceError) => Promise.reject(e.code === grpc.status.UNIMPLEMENTED ? new Unimplemented(e.details) : e));

function base(client: AnyClient, opts: RemoteOptions) {
  return {
    describe: (): Promise<PluginInfo> => call(client.describe.bind(client), DescribeRequest.create(), opts),
    health: (): Promise<HealthResponse> => call(client.health.bind(client), HealthRequest.create(), opts),
    configure: async (pluginId: string, config: unknown) =>
      void (await optional(client.configure.bind(client), ConfigureRequest.create({ pluginId, configJson: JSON.stringify(config ?? {}) }), opts)),
    close: () => client.close(),
  };
}

export function remoteModel(address: string, opts: RemoteOptions): ModelApi & { close(): void } {
  const client = new ModelBackendClient(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  return {
    ...base(client, opts),
    // The answer is checked by the pipeline (contract.ts), as every model's is.
    classify: async (records) => (await call(client.classify.bind(client), ClassifyRequest.create({ records }), opts)).results,
    update: (a) => optional(client.update.bind(client), UpdateRequest.create({ artifactDir: a.dir, name: a.name, kind: a.kind }), opts)
      .catch((e: Error) => Promise.reject(e instanceof Unimplemented ? new Error(`cannot be updated live: ${e.message}`) : e)),
  };
}

export function remoteResponder(address: string, opts: RemoteOptions): ResponderApi & { close(): void } {
  const client = new ResponderClient(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  return {
    ...base(client, opts),
    handle: (d) => call(client.handle.bind(client), Detection.fromPartial(d), opts),
  };
}

export function remoteExtractor(address: string, opts: RemoteOptions): ExtractorApi & { close(): void } {
  const client = new FeatureExtractorClient(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  return {
    ...base(client, opts),
    stream(sink, onError) {
      const stream = client.streamFlows(StreamFlowsRequest.create());
      stream.on("data", (r: FlowRecord) => sink(r));
      stream.on("error", (err: grpc.ServiceError) => {
        if (err.code !== grpc.status.CANCELLED) onError(err);
      });
      return () => stream.cancel();
    },
  };
}

export function remotePlugin<K extends PluginKindName>(kind: K, address: string, opts: RemoteOptions): ApiByKind[K] & { close(): void } {
  const make = { model: remoteModel, responder: remoteResponder, extractor: remoteExtractor }[kind];
  return make(address, opts) as unknown as ApiByKind[K] & { close(): void };
}
