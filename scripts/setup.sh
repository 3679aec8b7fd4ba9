#!/usr/bin/env bash
# Idempotent machine and build setup: installs only what is missing, rebuilds only what changed.
# On a set-up machine it finishes in seconds. Run by `npm run demo`, `npm test` and `.ci/run`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the BPF toolchain, libbpf, network tools the tests drive, XGBoost for training.
APT_PACKAGES=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make g++ python3
  iproute2 iputils-ping netcat-openbsd curl nmap util-linux protobuf-compiler python3-xgboost iperf3 chromium
  logrotate # packaging/: the install test checks the shipped logrotate snippet with it
  tshark # test/dataplane/tshark-oracle.test.ts: an independent parser for the flow features
  python3-grpcio python3-grpc-tools # plugins/models/example-python: the author kit's Python plugin
  ethtool # bench/throughput.ts: GRO on the receiving veth
  nats-server # plugins/fleet: the fleet tests and the fleet bench run a real one (JetStream)
  fever # plugins/responders/alert-log: a real EVE JSON consumer ingests the alert lines
  # the testbed: the victim's services and the real attack tools
  nginx-light openssh-server openssh-client vsftpd libpam-pwdfile hping3 hydra slowhttptest goldeneye
  # the scenario matrix (test/testbed/matrix.ts): second tools per attack class, more benign clients
  masscan t50 apache2-utils siege medusa ncrack patator ffuf sqlmap wget rsync bind9-dnsutils ntpsec-ntpdig
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  # Services (nginx, sshd, vsftpd) must not start on the host: the testbed runs its own copies
  # inside a namespace. policy-rc.d tells the packages' scripts not to start them.
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# bpffs: pinned maps, programs and links live there.
if ! mountpoint -q /sys/fs/bpf; then mount -t bpf bpf /sys/fs/bpf; fi

# JS packages, Bun included (pinned in package.json). onnxruntime-node must not fetch GPU libraries.
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing JS packages"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi

# Native addon and BPF objects (make decides what is stale).
make -s -f scripts/build.mk
