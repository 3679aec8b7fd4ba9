// Errors thrown to JavaScript carry a machine-readable `kind` and `errno` so the TypeScript face
// can turn them into typed errors (VerifierError, NotSupportedError, BpfError).
#pragma once
#include <napi.h>
#include <string>

namespace xids {

// Throws a JS Error with .kind, .errno, .op and optionally .log (verifier or libbpf output).
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& op, int err, const std::string& log = "");

// Captures everything libbpf prints while it is in scope (libbpf reports through a global
// print callback, so loads are serialised on the JS thread anyway).
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  std::string Text() const;
};

}  // namespace xids
