// RingBuf: a BPF ring buffer drained from the JS thread. No native thread ever calls into JS:
// consume() and poll() run libbpf's consumer synchronously and hand back copies of the records.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <vector>

namespace xids {

class RingBuf : public Napi::ObjectWrap<RingBuf> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RingBuf(const Napi::CallbackInfo& info);
  ~RingBuf() override;

 private:
  static int OnRecord(void* ctx, void* data, size_t size);
  Napi::Value Drain(Napi::Env env, int rc);
  Napi::Value Consume(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value EpollFd(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  ring_buffer* rb_ = nullptr;
  // Records of the current drain, concatenated, with their end offsets.
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> ends_;
};

}  // namespace xids
