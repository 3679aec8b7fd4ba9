#include "xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <cerrno>
#include <stdexcept>

#include "errors.h"
#include "netns.h"

namespace xids {
namespace {

std::string NsArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
}

// xdpLinkCreate(progFd, ifindex, mode: "native" | "generic", netnsPath?) -> link fd
Napi::Value XdpLinkCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd = info[0].As<Napi::Number>().Int32Value();
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  std::string mode = info[2].As<Napi::String>();
  std::string ns = NsArg(info, 3);
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.flags = mode == "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  int fd, err = 0;
  try {
    NetnsGuard guard(ns);
    fd = bpf_link_create(progFd, ifindex, BPF_XDP, &opts);
    if (fd < 0) err = errno;
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, e.what());
  }
  if (fd < 0) ThrowErrno(env, "xdp attach (" + mode + ")", err);
  return Napi::Number::New(env, fd);
}

// xdpQuery(ifindex, netnsPath?) -> { progId, drvProgId, skbProgId, mode } (mode: none|native|generic|hw|multi)
Napi::Value XdpQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  std::string ns = NsArg(info, 1);
  LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  int rc;
  try {
    NetnsGuard guard(ns);
    rc = bpf_xdp_query(ifindex, 0, &opts);
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, e.what());
  }
  if (rc) ThrowErrno(env, "xdp query", rc);
  static const char* kModes[] = {"none", "native", "generic", "hw", "multi"};
  Napi::Object o = Napi::Object::New(env);
  o.Set("progId", opts.prog_id);
  o.Set("drvProgId", opts.drv_prog_id);
  o.Set("skbProgId", opts.skb_prog_id);
  o.Set("mode", opts.attach_mode < 5 ? kModes[opts.attach_mode] : "unknown");
  return o;
}

// linkDetach(fd): detaches even when the link is pinned elsewhere.
Napi::Value LinkDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (bpf_link_detach(info[0].As<Napi::Number>().Int32Value()) != 0) ThrowErrno(env, "link detach", errno);
  return env.Undefined();
}

// linkUpdate(linkFd, progFd): atomically replaces the program a link runs (no detached gap).
Napi::Value LinkUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int linkFd = info[0].As<Napi::Number>().Int32Value();
  int progFd = info[1].As<Napi::Number>().Int32Value();
  if (bpf_link_update(linkFd, progFd, nullptr) != 0) ThrowErrno(env, "link update", errno);
  return env.Undefined();
}

}  // namespace

void InitXdp(Napi::Env env, Napi::Object exports) {
  exports.Set("xdpLinkCreate", Napi::Function::New<XdpLinkCreate>(env));
  exports.Set("xdpQuery", Napi::Function::New<XdpQuery>(env));
  exports.Set("linkDetach", Napi::Function::New<LinkDetach>(env));
  exports.Set("linkUpdate", Napi::Function::New<LinkUpdate>(env));
}

}  // namespace xids
