# Builds the native addon and every BPF object, each only when its sources changed.
# Used by scripts/setup.sh; `make -f scripts/build.mk clean` removes all build outputs.

# node-gyp builds against the headers of the Node that runs it (no header download).
NODEDIR := $(shell dirname $$(dirname $$(readlink -f $$(command -v node))))
ADDON := native/build/Release/xids_native.node
ADDON_SRCS := $(wildcard native/src/*.cc native/src/*.h) native/binding.gyp

# The testbed's user-space link emulator (delay, jitter, loss; test/testbed/link-conditions.ts).
RELAY := test/tools/build/link-relay

all: $(ADDON) bpf fixtures bench $(RELAY)

$(ADDON): $(ADDON_SRCS)
	cd native && ../node_modules/.bin/node-gyp rebuild --nodedir=$(NODEDIR) --loglevel=error >/dev/null
	@echo "built $@"

$(RELAY): test/tools/link-relay.c
	@mkdir -p $(@D)
	cc -O2 -g -Wall -Wextra -o $@ $< -lm
	@echo "built $@"

bpf:
	@if [ -f bpf/Makefile ]; then $(MAKE) -s -C bpf; fi

fixtures:
	@$(MAKE) -s -C test/fixtures

bench:
	@$(MAKE) -s -C bench/bpf

clean:
	rm -rf native/build test/tools/build
	@if [ -f bpf/Makefile ]; then $(MAKE) -s -C bpf clean; fi
	$(MAKE) -s -C test/fixtures clean

.PHONY: all bpf fixtures bench clean
