#!/usr/bin/python3
"""An external xids model plugin in Python, written only against the contract
(proto/xids/plugin/v1/model.proto), the way a plugin in any language is.

It starts with one rule: a flow that is a single TCP packet without payload (a scan probe, the
first SYN of a flood) is an ATTACK, every other flow BENIGN. PushModel with an xids decision-tree
artifact (models/artifacts/dt, kind "dt") replaces the rule with that tree, walked here as the
kernel and the TypeScript models walk it (input <= threshold goes left); other kinds are refused.

Needs Debian's python3 with python3-grpcio and python3-grpc-tools. The Python stubs are generated
from the .proto files at start (grpc_tools.protoc into a temporary directory), so the plugin
always speaks the contract of the checkout it runs from.

usage: plugin.py --listen unix:/run/xids/py-model.sock | 127.0.0.1:50071 [--proto DIR]
"""
import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from concurrent import futures

import grpc
from grpc_tools import protoc

CONTRACT = "xids.plugin.v1"
HERE = os.path.dirname(os.path.abspath(__file__))


def load_stubs(proto_dir: str):
    """Generates the Python stubs of the contract and imports them."""
    out = tempfile.mkdtemp(prefix="xids-py-stubs-")
    files = [os.path.join(proto_dir, "xids/plugin/v1", f) for f in ("common.proto", "model.proto")]
    if protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}", *files]) != 0:
        sys.exit(f"plugin.py: cannot generate stubs from {proto_dir}")
    sys.path.insert(0, out)
    from xids.plugin.v1 import common_pb2, model_pb2, model_pb2_grpc  # noqa: E402

    return common_pb2, model_pb2, model_pb2_grpc


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="unix:/path or host:port")
    ap.add_argument("--proto", default=os.path.join(HERE, "..", "..", "..", "proto"))
    args = ap.parse_args()
    common, model, model_grpc = load_stubs(os.path.abspath(args.proto))

    state = {"model": "example-python", "version": 1, "tree": None, "probe_max_packets": 1}
    lock = threading.Lock()

    def rule(f):
        # FEATURES.md: 1 Protocol, 2 Total Fwd Packets, 3 Total Length of Fwd Packets.
        probe = len(f) > 3 and f[1] == 6 and 1 <= f[2] <= state["probe_max_packets"] and f[3] == 0
        return probe, 0.9 if probe else 0.1

    def walk(t, f):
        inputs = [f[i] if i < len(f) else 0 for i in t["inputs"]]
        n = 0
        for _ in range(64):  # bounded, as in the kernel
            if t["feature"][n] < 0:
                return t["cls"][n] == 1, t["value"][n]  # the leaf's attack probability x 65536, as the TS model scores
            n = t["left"][n] if inputs[t["feature"][n]] <= t["threshold"][n] else t["right"][n]
        raise ValueError("tree deeper than 64")

    def verdict_of(r):
        with lock:
            tree, name = state["tree"], f"{state['model']} v{state['version']}"
        attack, score = walk(tree, list(r.features)) if tree else rule(list(r.features))
        return common.Classification(
            flow_id=r.id,
            verdict=common.VERDICT_ATTACK if attack else common.VERDICT_BENIGN,
            score=score,
            label="ATTACK" if tree and attack else "PortScan" if attack else "BENIGN",
            model=name,
        )

    def load_tree(folder):
        with open(os.path.join(folder, "manifest.json")) as fh:
            manifest = json.load(fh)
        if manifest.get("kind") != "dt":
            raise ValueError(f"this plugin runs decision-tree artifacts (kind dt), {folder} is {manifest.get('kind')!r}")
        with open(os.path.join(folder, manifest.get("files", {}).get("tree", "tree.json"))) as fh:
            t = json.load(fh)
        t["inputs"] = [f["index"] for f in manifest["features"]]
        return manifest.get("name", os.path.basename(folder)), t

    class Model(model_grpc.ModelBackendServicer):
        def Describe(self, request, context):
            return common.PluginInfo(
                id="example-python", kind=common.PLUGIN_KIND_MODEL, version="1", api=CONTRACT,
                description="lone TCP packets without payload are attacks (an example)",
                properties={"model": state["model"], "model_version": str(state["version"]), "probe_max_packets": str(state["probe_max_packets"])},
                # The core checks the entry's config: against this before Configure (file:line errors).
                config_schema=json.dumps({"type": "object", "properties": {"probe_max_packets": {"type": "integer", "minimum": 1}}, "additionalProperties": False}),
            )

        def Configure(self, request, context):
            # The entry's config: from the core's YAML: {"probe_max_packets": N}; anything else is refused.
            config = json.loads(request.config_json or "{}")
            for key, value in config.items():
                if key != "probe_max_packets":
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{key}: unknown key (probe_max_packets)")
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"probe_max_packets: expected a whole number >= 1, got {value!r}")
            with lock:
                state.update(config)
            return common.ConfigureResponse()

        def Health(self, request, context):
            return common.HealthResponse(status=common.HealthResponse.STATUS_SERVING)

        def Classify(self, request, context):
            return model.ClassifyResponse(results=[verdict_of(r) for r in request.records])

        def Update(self, request, context):
            try:
                name, tree = load_tree(request.artifact_dir)
            except (OSError, ValueError, KeyError) as err:  # the running model stays
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"artifact {request.artifact_dir}: {err}")
            with lock:
                state.update(model=name, version=state["version"] + 1, tree=tree)
                return model.UpdateResponse(model=state["model"], version=state["version"])

    if args.listen.startswith("unix:"):
        path = args.listen[len("unix:"):]
        if os.path.exists(path):
            os.unlink(path)  # a stale socket from an earlier run
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    model_grpc.add_ModelBackendServicer_to_server(Model(), server)
    if server.add_insecure_port(args.listen) == 0:
        sys.exit(f"plugin.py: cannot listen on {args.listen}")
    server.start()
    print(f"example-python: serving {CONTRACT} on {args.listen}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
