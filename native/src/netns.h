// Runs a piece of native code inside another network namespace (by bpffs-independent path such
// as /var/run/netns/NAME) and switches back. Only the calling thread moves, which is what we want:
// ifindex lookups, netlink queries and XDP attachment are resolved in the thread's namespace.
#pragma once
#include <string>

namespace xids {

class NetnsGuard {
 public:
  // Empty path: stay where we are. Throws std::runtime_error on failure.
  explicit NetnsGuard(const std::string& path);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  int original_ = -1;
};

}  // namespace xids
