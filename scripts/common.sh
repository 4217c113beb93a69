# SPDX-License-Identifier: GPL-2.0
#
# Shared settings for kintrospect's scripts: where caches live and which
# toolchain builds the kernel and the module. Sourced, never executed.
#
# Everything that is downloaded or built lives under $KINTROSPECT_CACHE,
# outside the repository, so a second run is incremental and nothing of it
# can be committed by accident.

KINTROSPECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KINTROSPECT_CACHE=${KINTROSPECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kintrospect}

# Debian's linux-source package and the version it carries.
KERNEL_PKG=${KERNEL_PKG:-linux-source-7.3}
KERNEL_SRC=${KERNEL_SRC:-$KINTROSPECT_CACHE/src/$KERNEL_PKG}
# Out-of-tree build of the debug kernel (O=).
KERNEL_BUILD=${KERNEL_BUILD:-$KINTROSPECT_CACHE/build/$KERNEL_PKG}
# The production-like kernel (scripts/kernel-prod.config), beside it.
KERNEL_BUILD_PROD=${KERNEL_BUILD_PROD:-$KERNEL_BUILD-prod}

# Pinned bindgen-cli, installed into the cache with `cargo install --locked`.
BINDGEN_VERSION=0.72.1
BINDGEN_ROOT=$KINTROSPECT_CACHE/bindgen-$BINDGEN_VERSION

# The Debian Rust toolchain (rustc-web) has the matching core/alloc source;
# the rustup toolchain first on PATH does not, so everything is explicit.
RUSTC_BIN=/usr/bin/rustc
RUSTDOC_BIN=/usr/bin/rustdoc
RUSTFMT_BIN=/usr/bin/rustfmt
CLIPPY_DRIVER_BIN=/usr/bin/clippy-driver
LLVM_SUFFIX=-22
export LIBCLANG_PATH=/usr/lib/llvm-22/lib

rust_lib_src() {
	local v
	v=$("$RUSTC_BIN" --version 2>/dev/null | awk '{print $2}')
	echo "/usr/src/rustc-$v/library"
}

# Arguments every kernel or module make invocation gets.
kmake_args() {
	echo "LLVM=$LLVM_SUFFIX RUSTC=$RUSTC_BIN RUSTDOC=$RUSTDOC_BIN" \
	     "RUSTFMT=$RUSTFMT_BIN CLIPPY_DRIVER=$CLIPPY_DRIVER_BIN" \
	     "BINDGEN=$BINDGEN_ROOT/bin/bindgen RUST_LIB_SRC=$(rust_lib_src)"
}

# cargo (for bindgen-cli) comes from rustup, which a non-login shell may not
# have on PATH.
command -v cargo >/dev/null || PATH=$HOME/.cargo/bin:$PATH

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }
