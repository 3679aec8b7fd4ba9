#include "object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include <cerrno>
#include <cstring>

#include "errors.h"

namespace xids {

namespace {
// Large enough for the verifier log of a big program at log level 1.
constexpr size_t kLogBufSize = 16 * 1024 * 1024;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Napi::Function BpfObject::Init(Napi::Env env) {
  return DefineClass(env, "BpfObject",
                     {
                         InstanceMethod<&BpfObject::Globals>("globals"),
                         InstanceMethod<&BpfObject::SetInitial>("setInitial"),
                         InstanceMethod<&BpfObject::SetMaxEntries>("setMaxEntries"),
                         InstanceMethod<&BpfObject::SetPinPath>("setPinPath"),
                         InstanceMethod<&BpfObject::Load>("load"),
                         InstanceMethod<&BpfObject::Programs>("programs"),
                         InstanceMethod<&BpfObject::Maps>("maps"),
                         InstanceMethod<&BpfObject::Close>("close"),
                     });
}

BpfObject::BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  LibbpfLogCapture capture;
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  int err = libbpf_get_error(obj);
  if (err) ThrowErrno(env, "open " + path, err, capture.Text());
  obj_ = obj;
}

BpfObject::~BpfObject() {
  if (obj_) bpf_object__close(obj_);
}

void BpfObject::RequireOpen(Napi::Env env) const {
  if (!obj_) throw Napi::Error::New(env, "BPF object is closed");
}

bpf_map* BpfObject::InternalMap(Napi::Env env, const std::string& section) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj_) {
    if (bpf_map__is_internal(map) && EndsWith(bpf_map__name(map), section)) return map;
  }
  throw Napi::Error::New(env, "object has no " + section + " section");
}

bpf_map* BpfObject::NamedMap(Napi::Env env, const std::string& name) {
  bpf_map* map = bpf_object__find_map_by_name(obj_, name.c_str());
  if (!map) throw Napi::Error::New(env, "object has no map named '" + name + "'");
  return map;
}

// Global variables from BTF: every VAR in the .rodata/.data/.bss data sections with its offset.
Napi::Value BpfObject::Globals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  Napi::Array out = Napi::Array::New(env);
  const btf* btf = bpf_object__btf(obj_);
  if (!btf) return out;
  uint32_t idx = 0;
  uint32_t n = btf__type_cnt(btf);
  for (uint32_t id = 1; id < n; id++) {
    const btf_type* t = btf__type_by_id(btf, id);
    if (!btf_is_datasec(t)) continue;
    std::string section = btf__name_by_offset(btf, t->name_off);
    const btf_var_secinfo* vs = btf_var_secinfos(t);
    for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
      const btf_type* var = btf__type_by_id(btf, vs->type);
      if (!btf_is_var(var)) continue;
      Napi::Object g = Napi::Object::New(env);
      g.Set("section", section);
      g.Set("name", btf__name_by_offset(btf, var->name_off));
      g.Set("offset", vs->offset);
      g.Set("size", vs->size);
      out.Set(idx++, g);
    }
  }
  return out;
}

// Before load: patch the initial image of a data section (this is how `const volatile` knobs
// are set, as a libbpf skeleton would).
Napi::Value BpfObject::SetInitial(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (loaded_) throw Napi::Error::New(env, "initial values can only be set before load");
  std::string section = info[0].As<Napi::String>();
  uint32_t offset = info[1].As<Napi::Number>().Uint32Value();
  Napi::Uint8Array bytes = info[2].As<Napi::Uint8Array>();
  size_t size = 0;
  void* image = const_cast<void*>(bpf_map__initial_value(InternalMap(env, section), &size));
  if (!image || offset + bytes.ByteLength() > size)
    throw Napi::RangeError::New(env, "write outside of section " + section);
  memcpy(static_cast<char*>(image) + offset, bytes.Data(), bytes.ByteLength());
  return env.Undefined();
}

Napi::Value BpfObject::SetMaxEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  std::string name = info[0].As<Napi::String>();
  uint32_t n = info[1].As<Napi::Number>().Uint32Value();
  int err = bpf_map__set_max_entries(NamedMap(env, name), n);
  if (err) ThrowErrno(env, "set max_entries of " + name, err);
  return env.Undefined();
}

Napi::Value BpfObject::SetPinPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  std::string name = info[0].As<Napi::String>();
  std::string path = info[1].As<Napi::String>();
  int err = bpf_map__set_pin_path(NamedMap(env, name), path.c_str());
  if (err) ThrowErrno(env, "set pin path of " + name, err);
  return env.Undefined();
}

Napi::Value BpfObject::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  if (loaded_) throw Napi::Error::New(env, "BPF object is already loaded");
  // libbpf loads programs one by one and, on failure, retries the failing one at log level 1
  // into this buffer, so one shared buffer ends up holding the log of the program that failed.
  log_buf_.assign(kLogBufSize, '\0');
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) bpf_program__set_log_buf(prog, log_buf_.data(), log_buf_.size());
  LibbpfLogCapture capture;
  int err = bpf_object__load(obj_);
  std::string verifierLog(log_buf_.data());
  log_buf_.clear();
  log_buf_.shrink_to_fit();
  if (err) {
    std::string libbpfLog = capture.Text();
    // A failed load leaves the object unusable; close it now so no fd outlives the failure.
    bpf_object__close(obj_);
    obj_ = nullptr;
    ThrowErrno(env, "load", err, verifierLog.empty() ? libbpfLog : verifierLog + "\n" + libbpfLog);
  }
  loaded_ = true;
  return env.Undefined();
}

Napi::Value BpfObject::Programs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  Napi::Array out = Napi::Array::New(env);
  uint32_t idx = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("name", bpf_program__name(prog));
    p.Set("section", bpf_program__section_name(prog));
    p.Set("fd", bpf_program__fd(prog));
    p.Set("type", static_cast<uint32_t>(bpf_program__type(prog)));
    out.Set(idx++, p);
  }
  return out;
}

Napi::Value BpfObject::Maps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  Napi::Array out = Napi::Array::New(env);
  uint32_t idx = 0;
  bpf_map* map;
  bpf_object__for_each_map(map, obj_) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("name", bpf_map__name(map));
    m.Set("fd", bpf_map__fd(map));
    m.Set("type", static_cast<uint32_t>(bpf_map__type(map)));
    m.Set("keySize", bpf_map__key_size(map));
    m.Set("valueSize", bpf_map__value_size(map));
    m.Set("maxEntries", bpf_map__max_entries(map));
    m.Set("flags", bpf_map__map_flags(map));
    m.Set("internal", bpf_map__is_internal(map));
    const char* pin = bpf_map__pin_path(map);
    if (pin) m.Set("pinPath", pin);
    out.Set(idx++, m);
  }
  return out;
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo& info) {
  if (obj_) {
    bpf_object__close(obj_);
    obj_ = nullptr;
  }
  return info.Env().Undefined();
}

}  // namespace xids
