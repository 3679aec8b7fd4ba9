#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace xids {

NetnsGuard::NetnsGuard(const std::string& path) {
  if (path.empty()) return;
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) throw std::runtime_error(std::string("open current netns: ") + strerror(errno));
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(original_);
    original_ = -1;
    throw std::runtime_error("open netns " + path + ": " + strerror(err));
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  close(target);
  if (rc != 0) {
    close(original_);
    original_ = -1;
    throw std::runtime_error("setns " + path + ": " + strerror(err));
  }
}

NetnsGuard::~NetnsGuard() {
  if (original_ < 0) return;
  setns(original_, CLONE_NEWNET);  // cannot fail for a namespace we were just in
  close(original_);
}

}  // namespace xids
