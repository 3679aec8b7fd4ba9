#include "fd_ops.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "errors.h"
#include "netns.h"

namespace xids {
namespace {

int FdArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

Napi::Uint8Array Copy(Napi::Env env, const void* data, size_t len) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, len);
  if (len) memcpy(out.Data(), data, len);
  return out;
}

// mapLookup(fd, key, valueBytes) -> Uint8Array | null
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array key = info[1].As<Napi::Uint8Array>();
  std::vector<uint8_t> value(info[2].As<Napi::Number>().Uint32Value());
  if (bpf_map_lookup_elem(FdArg(info, 0), key.Data(), value.data()) != 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "map lookup", errno);
  }
  return Copy(env, value.data(), value.size());
}

// mapUpdate(fd, key, value, flags)
Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array key = info[1].As<Napi::Uint8Array>();
  Napi::Uint8Array value = info[2].As<Napi::Uint8Array>();
  uint64_t flags = info[3].As<Napi::Number>().Int64Value();
  if (bpf_map_update_elem(FdArg(info, 0), key.Data(), value.Data(), flags) != 0) ThrowErrno(env, "map update", errno);
  return env.Undefined();
}

// mapDelete(fd, key) -> true if an entry was removed
Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array key = info[1].As<Napi::Uint8Array>();
  if (bpf_map_delete_elem(FdArg(info, 0), key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "map delete", errno);
  }
  return Napi::Boolean::New(env, true);
}

// mapNextKey(fd, key | null, keySize) -> Uint8Array | null at the end
Napi::Value MapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint8_t> next(info[2].As<Napi::Number>().Uint32Value());
  const void* cur = info[1].IsNull() ? nullptr : info[1].As<Napi::Uint8Array>().Data();
  if (bpf_map_get_next_key(FdArg(info, 0), cur, next.data()) != 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "map next key", errno);
  }
  return Copy(env, next.data(), next.size());
}

// mapDump(fd, keySize, valueBytes, maxEntries) -> { keys, values, count }
// Reads the whole map with BPF_MAP_LOOKUP_BATCH, falling back to key-by-key iteration for map
// types without batch support. A hash map may change underneath: entries are a snapshot.
Napi::Value MapDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t keySize = info[1].As<Napi::Number>().Uint32Value();
  uint32_t valueBytes = info[2].As<Napi::Number>().Uint32Value();
  uint32_t maxEntries = info[3].As<Napi::Number>().Uint32Value();
  std::vector<uint8_t> keys(static_cast<size_t>(keySize) * maxEntries);
  std::vector<uint8_t> values(static_cast<size_t>(valueBytes) * maxEntries);
  uint32_t total = 0;
  std::vector<uint8_t> inBatch(std::max<uint32_t>(keySize, 8)), outBatch(std::max<uint32_t>(keySize, 8));
  bool first = true, batchWorks = true;
  while (total < maxEntries) {
    uint32_t count = maxEntries - total;
    int rc = bpf_map_lookup_batch(fd, first ? nullptr : inBatch.data(), outBatch.data(),
                                  keys.data() + static_cast<size_t>(total) * keySize,
                                  values.data() + static_cast<size_t>(total) * valueBytes, &count, nullptr);
    int err = rc ? errno : 0;
    if (rc && err != ENOENT) {
      if (first && (err == EINVAL || err == ENOTSUP || err == 524)) {
        batchWorks = false;
        break;
      }
      ThrowErrno(env, "map lookup batch", err);
    }
    total += count;
    if (err == ENOENT) break;  // no more entries
    inBatch = outBatch;
    first = false;
  }
  if (!batchWorks) {
    total = 0;
    std::vector<uint8_t> cur(keySize), next(keySize);
    bool haveCur = false;
    while (total < maxEntries && bpf_map_get_next_key(fd, haveCur ? cur.data() : nullptr, next.data()) == 0) {
      uint8_t* v = values.data() + static_cast<size_t>(total) * valueBytes;
      if (bpf_map_lookup_elem(fd, next.data(), v) == 0) {
        memcpy(keys.data() + static_cast<size_t>(total) * keySize, next.data(), keySize);
        total++;
      }
      cur = next;
      haveCur = true;
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("keys", Copy(env, keys.data(), static_cast<size_t>(total) * keySize));
  out.Set("values", Copy(env, values.data(), static_cast<size_t>(total) * valueBytes));
  out.Set("count", total);
  return out;
}

// progTestRun(fd, data, repeat, ctx | null, dataOutCapacity) -> { retval, data, durationNs, ctx }
Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  uint32_t repeat = info[2].As<Napi::Number>().Uint32Value();
  bool hasCtx = !info[3].IsNull() && !info[3].IsUndefined();
  std::vector<uint8_t> ctxIn, ctxOut;
  if (hasCtx) {
    Napi::Uint8Array c = info[3].As<Napi::Uint8Array>();
    ctxIn.assign(c.Data(), c.Data() + c.ByteLength());
    ctxOut.resize(ctxIn.size());
  }
  std::vector<uint8_t> out(info[4].As<Napi::Number>().Uint32Value());
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = data.ByteLength() ? data.Data() : nullptr;
  opts.data_size_in = data.ByteLength();
  opts.data_out = out.empty() ? nullptr : out.data();
  opts.data_size_out = out.size();
  opts.repeat = repeat;
  if (hasCtx) {
    opts.ctx_in = ctxIn.data();
    opts.ctx_size_in = ctxIn.size();
    opts.ctx_out = ctxOut.data();
    opts.ctx_size_out = ctxOut.size();
  }
  if (bpf_prog_test_run_opts(FdArg(info, 0), &opts) != 0) ThrowErrno(env, "prog test run", errno);
  Napi::Object res = Napi::Object::New(env);
  res.Set("retval", opts.retval);
  res.Set("data", Copy(env, out.data(), std::min<size_t>(opts.data_size_out, out.size())));
  res.Set("durationNs", opts.duration);
  if (hasCtx) res.Set("ctx", Copy(env, ctxOut.data(), ctxOut.size()));
  return res;
}

Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[1].As<Napi::String>();
  if (bpf_obj_pin(FdArg(info, 0), path.c_str()) != 0) ThrowErrno(env, "pin " + path, errno);
  return env.Undefined();
}

Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(env, "open pinned " + path, errno);
  return Napi::Number::New(env, fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(FdArg(info, 0));
  return info.Env().Undefined();
}

// Object info, by the kind the caller expects the fd to be.
Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map_info mi{};
  uint32_t len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(FdArg(info, 0), &mi, &len) != 0) ThrowErrno(env, "map info", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", mi.name);
  o.Set("id", mi.id);
  o.Set("type", mi.type);
  o.Set("keySize", mi.key_size);
  o.Set("valueSize", mi.value_size);
  o.Set("maxEntries", mi.max_entries);
  o.Set("flags", mi.map_flags);
  return o;
}

Napi::Value ProgInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_prog_info pi{};
  uint32_t len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(FdArg(info, 0), &pi, &len) != 0) ThrowErrno(env, "prog info", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", pi.name);
  o.Set("id", pi.id);
  o.Set("type", pi.type);
  o.Set("runCount", Napi::Number::New(env, static_cast<double>(pi.run_cnt)));
  o.Set("runTimeNs", Napi::Number::New(env, static_cast<double>(pi.run_time_ns)));
  return o;
}

Napi::Value LinkInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_link_info li{};
  uint32_t len = sizeof(li);
  if (bpf_obj_get_info_by_fd(FdArg(info, 0), &li, &len) != 0) ThrowErrno(env, "link info", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", li.id);
  o.Set("type", li.type);
  o.Set("progId", li.prog_id);
  if (li.type == BPF_LINK_TYPE_XDP) o.Set("ifindex", li.xdp.ifindex);
  return o;
}

Napi::Value ProgFdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = bpf_prog_get_fd_by_id(info[0].As<Napi::Number>().Uint32Value());
  if (fd < 0) ThrowErrno(env, "prog by id", errno);
  return Napi::Number::New(env, fd);
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

// The clock bpf_ktime_get_ns() reads, so user space can compute expiries the kernel agrees with.
Napi::Value MonotonicNs(const Napi::CallbackInfo& info) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(info.Env(), ns);
}

// ifNameToIndex(name, netnsPath) -> ifindex, resolved in that namespace
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  std::string ns = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  unsigned idx;
  try {
    NetnsGuard guard(ns);
    idx = if_nametoindex(name.c_str());
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, e.what());
  }
  if (idx == 0) ThrowErrno(env, "interface " + name + (ns.empty() ? "" : " in " + ns), errno);
  return Napi::Number::New(env, idx);
}

// lockFile(path) -> fd holding an exclusive flock on path (created 0600), or -1 when another
// process holds it. The kernel releases the lock when the holder's fd closes, so a killed
// holder never leaves a stale lock behind.
Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) ThrowErrno(env, "open lock file " + path, errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowErrno(env, "lock " + path, err);
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

void InitFdOps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapLookup", Napi::Function::New<MapLookup>(env));
  exports.Set("mapUpdate", Napi::Function::New<MapUpdate>(env));
  exports.Set("mapDelete", Napi::Function::New<MapDelete>(env));
  exports.Set("mapNextKey", Napi::Function::New<MapNextKey>(env));
  exports.Set("mapDump", Napi::Function::New<MapDump>(env));
  exports.Set("progTestRun", Napi::Function::New<ProgTestRun>(env));
  exports.Set("objPin", Napi::Function::New<ObjPin>(env));
  exports.Set("objGet", Napi::Function::New<ObjGet>(env));
  exports.Set("closeFd", Napi::Function::New<CloseFd>(env));
  exports.Set("lockFile", Napi::Function::New<LockFile>(env));
  exports.Set("mapInfo", Napi::Function::New<MapInfo>(env));
  exports.Set("progInfo", Napi::Function::New<ProgInfo>(env));
  exports.Set("linkInfo", Napi::Function::New<LinkInfo>(env));
  exports.Set("progFdById", Napi::Function::New<ProgFdById>(env));
  exports.Set("numPossibleCpus", Napi::Function::New<NumPossibleCpus>(env));
  exports.Set("monotonicNs", Napi::Function::New<MonotonicNs>(env));
  exports.Set("ifNameToIndex", Napi::Function::New<IfNameToIndex>(env));
}

}  // namespace xids
