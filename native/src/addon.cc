// Module entry: exposes the thin libbpf layer; native/index.ts builds the typed API on top.
#include <napi.h>

#include "fd_ops.h"
#include "object.h"
#include "ringbuf.h"
#include "xdp.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("BpfObject", xids::BpfObject::Init(env));
  exports.Set("RingBuf", xids::RingBuf::Init(env));
  xids::InitFdOps(env, exports);
  xids::InitXdp(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(xids_native, Init)
