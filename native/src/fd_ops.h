// Stateless operations on BPF file descriptors: maps, programs, pins, object info.
#pragma once
#include <napi.h>

namespace xids {
void InitFdOps(Napi::Env env, Napi::Object exports);
}
