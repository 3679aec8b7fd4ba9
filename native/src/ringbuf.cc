#include "ringbuf.h"

#include <cerrno>
#include <cstring>

#include "errors.h"

namespace xids {

Napi::Function RingBuf::Init(Napi::Env env) {
  return DefineClass(env, "RingBuf",
                     {
                         InstanceMethod<&RingBuf::Consume>("consume"),
                         InstanceMethod<&RingBuf::Poll>("poll"),
                         InstanceMethod<&RingBuf::EpollFd>("epollFd"),
                         InstanceMethod<&RingBuf::Close>("close"),
                     });
}

RingBuf::RingBuf(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingBuf>(info) {
  Napi::Env env = info.Env();
  int mapFd = info[0].As<Napi::Number>().Int32Value();
  LibbpfLogCapture capture;
  rb_ = ring_buffer__new(mapFd, &RingBuf::OnRecord, this, nullptr);
  if (!rb_) ThrowErrno(env, "ring buffer", errno, capture.Text());
}

RingBuf::~RingBuf() {
  if (rb_) ring_buffer__free(rb_);
}

int RingBuf::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingBuf*>(ctx);
  const auto* p = static_cast<const uint8_t*>(data);
  self->bytes_.insert(self->bytes_.end(), p, p + size);
  self->ends_.push_back(static_cast<uint32_t>(self->bytes_.size()));
  return 0;
}

// Returns { bytes: Uint8Array, ends: Uint32Array }: one copy for the whole batch, split in JS.
Napi::Value RingBuf::Drain(Napi::Env env, int rc) {
  if (rc < 0 && rc != -EINTR) {
    bytes_.clear();
    ends_.clear();
    ThrowErrno(env, "ring buffer consume", rc);
  }
  Napi::Object out = Napi::Object::New(env);
  Napi::Uint8Array bytes = Napi::Uint8Array::New(env, bytes_.size());
  if (!bytes_.empty()) memcpy(bytes.Data(), bytes_.data(), bytes_.size());
  Napi::Uint32Array ends = Napi::Uint32Array::New(env, ends_.size());
  if (!ends_.empty()) memcpy(ends.Data(), ends_.data(), ends_.size() * sizeof(uint32_t));
  out.Set("bytes", bytes);
  out.Set("ends", ends);
  bytes_.clear();
  ends_.clear();
  return out;
}

Napi::Value RingBuf::Consume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!rb_) throw Napi::Error::New(env, "ring buffer is closed");
  return Drain(env, ring_buffer__consume(rb_));
}

// Blocks the JS thread for at most timeoutMs; meant for CLIs and tests, not the agent loop.
Napi::Value RingBuf::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!rb_) throw Napi::Error::New(env, "ring buffer is closed");
  return Drain(env, ring_buffer__poll(rb_, info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value RingBuf::EpollFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!rb_) throw Napi::Error::New(env, "ring buffer is closed");
  return Napi::Number::New(env, ring_buffer__epoll_fd(rb_));
}

Napi::Value RingBuf::Close(const Napi::CallbackInfo& info) {
  if (rb_) {
    ring_buffer__free(rb_);
    rb_ = nullptr;
  }
  return info.Env().Undefined();
}

}  // namespace xids
