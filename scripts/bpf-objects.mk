# Shared rules for folders of standalone BPF objects (test fixtures, bench baselines): every
# *.bpf.c here builds into build/*.bpf.o. Include it from a Makefile in that folder.
CLANG ?= clang
BPF_CFLAGS := -O2 -g -target bpf -Wall -I/usr/include/$(shell uname -m)-linux-gnu
SRCS := $(wildcard *.bpf.c)
OBJS := $(patsubst %.bpf.c,build/%.bpf.o,$(SRCS))

all: $(OBJS)

build/%.bpf.o: %.bpf.c | build
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

build:
	mkdir -p build

clean:
	rm -rf build

.PHONY: all clean
