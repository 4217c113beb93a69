# SPDX-License-Identifier: GPL-2.0
#
# kintrospect: build the module, the debug kernel it is tested on, and run
# everything in a QEMU VM. `make help` lists the targets.
#
# KDIR=<path> builds against your own Rust-enabled kernel build instead of
# the debug kernel kept in the cache ($(KINTROSPECT_CACHE)).

SHELL := /bin/bash
.DEFAULT_GOAL := module

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
KINTROSPECT_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kintrospect
KDIR ?= $(KINTROSPECT_CACHE)/build/linux-source-7.3
export KINTROSPECT_CACHE

# What the module is built against: KDIR, or, when KDIR is a distribution's
# headers with CONFIG_RUST=y but without the Rust metadata (Debian's), a
# copy of them in the cache with the metadata built from the exact
# linux-source by the rustc the kernel was built by (scripts/stock-kernel;
# it refuses any other rustc). Evaluated once, by the targets that build.
BUILD_KDIR = $(eval BUILD_KDIR := $$(or $$(shell $(ROOT)/scripts/stock-kernel kdir $(KDIR)),$$(error cannot build against $(KDIR), see above; make doctor KDIR=$(KDIR))))$(BUILD_KDIR)
# The toolchain: Debian's rustc-web, clang-22 and the cached bindgen; never
# the rustup toolchain first on PATH (it has no rust-src). For a kernel built
# by gcc, the distribution's rustc and bindgen (scripts/common.sh).
KMAKE_ARGS = $(shell source $(ROOT)/scripts/common.sh && kmake_args $(BUILD_KDIR))
# Build outputs go to the cache (MO=), never into the repository; one
# directory per checkout, so that two work trees can build side by side.
MO ?= $(KINTROSPECT_CACHE)/module/$(notdir $(ROOT))
KMAKE = $(MAKE) -C $(BUILD_KDIR) M=$(ROOT) MO=$(MO) $(KMAKE_ARGS)
ifneq ($(wildcard /usr/lib/llvm-22/lib),)
export LIBCLANG_PATH := /usr/lib/llvm-22/lib
endif

# The kernel's rustfmt settings (an O= build dir links its source as source/).
RUSTFMT_CONFIG = $(firstword $(wildcard $(KDIR)/source/.rustfmt.toml $(KDIR)/.rustfmt.toml))
RUSTFMT = /usr/bin/rustfmt --edition 2021 --config-path $(RUSTFMT_CONFIG)

.PHONY: help setup kernel doctor dkms module kunit-module modules_install testmods testmods_install fmt fmt-check lint \
	check run bench rust-analyzer print-mo clean

help: ## Show this help.
	@awk -F ':.*## ' '/^[a-z_-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## Install the toolchain and fetch the kernel source (idempotent).
	$(ROOT)/scripts/setup

kernel: setup ## Build the debug kernel in the cache (incremental).
	$(ROOT)/scripts/build-kernel

doctor: ## Check KDIR (and the running system): can kintrospect be built and loaded, what is lost.
	$(ROOT)/scripts/doctor $(KDIR)

# For dkms.conf: kintrospect.ko into out/ of the copy dkms builds in. dkms
# appends CC=clang LD=ld.lld for a clang-built kernel, which would override
# LLVM=-22: the kernel's make gets no MAKEFLAGS from this one and
# its toolchain from KMAKE_ARGS alone.
dkms:
	@mkdir -p $(ROOT)/out
	MAKEFLAGS= $(MAKE) -C $(BUILD_KDIR) M=$(ROOT) MO=$(ROOT)/out $(KMAKE_ARGS) modules

module: ## Build kintrospect.ko against KDIR (into $(MO)).
	@mkdir -p $(MO)
	$(KMAKE) modules

kunit-module: ## Build kintrospect.ko with its KUnit suites (into $(MO)-kunit; make check loads it).
	@mkdir -p $(MO)-kunit
	$(MAKE) -C $(BUILD_KDIR) M=$(ROOT) MO=$(MO)-kunit $(KMAKE_ARGS) KINTROSPECT_KUNIT=1 modules

# A distribution's headers carry no signing key: install unsigned there.
NO_SIGN = $(if $(wildcard $(BUILD_KDIR)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=)

modules_install: module ## Install kintrospect.ko (INSTALL_MOD_PATH=<root>).
	$(KMAKE) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) INSTALL_MOD_DIR=extra $(NO_SIGN) modules_install

# Test helper modules: selftests/kintrospect/modules/*.c (patterns real
# drivers use) and the kernel's own lib/test_lockup.c, copied with a
# generated Kbuild into the cache and built there, one module per file.
TESTMODS = $(MO)/testmods
TEST_LOCKUP = $(firstword $(wildcard $(KDIR)/source/lib/test_lockup.c $(KDIR)/lib/test_lockup.c))
TMMAKE = $(MAKE) -C $(BUILD_KDIR) M=$(TESTMODS) $(KMAKE_ARGS)

testmods: ## Build the selftests' helper modules and lib/test_lockup.c (into $(MO)/testmods).
	@rm -rf $(TESTMODS) && mkdir -p $(TESTMODS)
	@cp $(wildcard $(ROOT)/selftests/kintrospect/modules/*.c) $(TEST_LOCKUP) $(TESTMODS)/
	@cd $(TESTMODS) && echo "obj-m := $$(ls *.c | sed 's/\.c$$/.o/' | tr '\n' ' ')" >Kbuild
	$(TMMAKE) modules

testmods_install: testmods ## Install the helper modules (INSTALL_MOD_PATH=<root>).
	$(TMMAKE) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) INSTALL_MOD_DIR=extra $(NO_SIGN) modules_install

fmt: ## Format the Rust code with the kernel's rustfmt settings.
	$(RUSTFMT) rust/*.rs

fmt-check: ## Check the Rust formatting (style gate).
	$(RUSTFMT) --check rust/*.rs

lint: ## Build with clippy, warnings as errors (style gate).
	@mkdir -p $(MO)
	$(KMAKE) clean
	$(KMAKE) CLIPPY=1 KRUSTFLAGS=-Dwarnings KCFLAGS=-Werror W=1 modules

check: ## The test command: set-up, kernel, module, style gates, KUnit + kselftests in the VM.
	$(ROOT)/scripts/check

run: ## Boot the VM, load the module and show what it sees.
	$(ROOT)/scripts/run

bench: ## Benchmarks in the VM, side by side with the kernel's own tools.
	$(ROOT)/scripts/bench

rust-analyzer: ## Write rust-project.json for rust-analyzer (editor support; ignored by git).
	@mkdir -p $(MO)
	$(KMAKE) rust-analyzer
	@if [ -f $(MO)/rust-project.json ]; then ln -sf $(MO)/rust-project.json $(ROOT)/rust-project.json; fi

# For the scripts: where this checkout's build outputs go.
print-mo:
	@echo $(MO)

clean: ## Remove the module's build outputs.
	$(KMAKE) clean
