// BpfObject: one ELF object file through libbpf's open -> configure -> load sequence.
// Loading is all-or-nothing: on failure libbpf closes every fd it created and we report why.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <string>
#include <vector>

namespace xids {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;

 private:
  Napi::Value Globals(const Napi::CallbackInfo& info);
  Napi::Value SetInitial(const Napi::CallbackInfo& info);
  Napi::Value SetMaxEntries(const Napi::CallbackInfo& info);
  Napi::Value SetPinPath(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Programs(const Napi::CallbackInfo& info);
  Napi::Value Maps(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  bpf_map* InternalMap(Napi::Env env, const std::string& section);
  bpf_map* NamedMap(Napi::Env env, const std::string& name);
  void RequireOpen(Napi::Env env) const;

  bpf_object* obj_ = nullptr;
  bool loaded_ = false;
  std::vector<char> log_buf_;
};

}  // namespace xids
