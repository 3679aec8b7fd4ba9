#!/usr/bin/env bash
# Regenerates proto/gen/ (TypeScript, ts-proto) from proto/xids/**/*.proto. The output is
# committed, so builds and tests never need protoc; test/core/proto-gen.test.ts checks that
# regenerating gives byte-identical files. Usage: scripts/gen-proto.sh [out-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-proto/gen}"
plugin="$PWD/node_modules/.bin/protoc-gen-ts_proto"
[ -x "$plugin" ] || { echo "gen-proto: $plugin missing (npm ci)" >&2; exit 1; }
command -v protoc >/dev/null || { echo "gen-proto: protoc not installed (apt-get install protobuf-compiler)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
# Sorted file list and fixed options: the output depends only on the .proto files.
mapfile -t files < <(cd proto && find xids -name '*.proto' | LC_ALL=C sort)
protoc \
  --plugin=protoc-gen-ts_proto="$plugin" \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,env=node,esModuleInterop=true,forceLong=number,useOptionals=none,importSuffix=.ts,useDate=false,oneof=unions-value \
  -I proto \
  "${files[@]}"
