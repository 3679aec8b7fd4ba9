#include "errors.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstring>

namespace xids {
namespace {

std::string g_capture;
bool g_capturing = false;

int PrintToCapture(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!g_capturing || level == LIBBPF_DEBUG) return 0;
  char buf[4096];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  if (n > 0) g_capture.append(buf, std::min<size_t>(n, sizeof(buf) - 1));
  return n;
}

// ENOTSUPP (524) is kernel-internal but leaks to user space from BPF syscalls.
constexpr int kENOTSUPP = 524;

const char* KindOf(int err, const std::string& op, bool hasLog) {
  if (err == EOPNOTSUPP || err == kENOTSUPP) return "not_supported";
  if (op == "load" && hasLog && (err == EACCES || err == EINVAL || err == E2BIG || err == ENOSPC))
    return "verifier";
  return "os";
}

}  // namespace

LibbpfLogCapture::LibbpfLogCapture() {
  g_capture.clear();
  g_capturing = true;
  libbpf_set_print(PrintToCapture);
}

LibbpfLogCapture::~LibbpfLogCapture() { g_capturing = false; }

std::string LibbpfLogCapture::Text() const { return g_capture; }

void ThrowErrno(Napi::Env env, const std::string& op, int err, const std::string& log) {
  if (err < 0) err = -err;
  std::string msg = op + ": " + (err == kENOTSUPP ? "operation not supported (ENOTSUPP)" : strerror(err));
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("op", Napi::String::New(env, op));
  e.Set("kind", Napi::String::New(env, KindOf(err, op, !log.empty())));
  if (!log.empty()) e.Set("log", Napi::String::New(env, log));
  throw e;
}

}  // namespace xids
