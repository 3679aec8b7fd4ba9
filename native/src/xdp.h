// XDP attachment through BPF links (pinnable, detached when the last reference goes away).
#pragma once
#include <napi.h>

namespace xids {
void InitXdp(Napi::Env env, Napi::Object exports);
}
