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
# (Only where it is: a distribution kernel's own bindgen finds its libclang.)
[ -d /usr/lib/llvm-22/lib ] && export LIBCLANG_PATH=/usr/lib/llvm-22/lib

rust_lib_src() {
	local v
	v=$("$RUSTC_BIN" --version 2>/dev/null | awk '{print $2}')
	echo "/usr/src/rustc-$v/library"
}

# Arguments every kernel or module make invocation gets. For a kernel built
# by gcc (a distribution's: Debian's headers name their gcc themselves) the
# distribution's own rustc and bindgen, as `scripts/stock-kernel` checks
# them; else this project's LLVM toolchain.
kmake_args() {
	local kdir=${1:-}
	if [ -n "$kdir" ] && grep -qx 'CONFIG_CC_IS_GCC=y' "$kdir/.config" 2>/dev/null; then
		echo "RUSTC=$RUSTC_BIN RUSTDOC=$RUSTDOC_BIN BINDGEN=/usr/bin/bindgen"
		return
	fi
	echo "LLVM=$LLVM_SUFFIX RUSTC=$RUSTC_BIN RUSTDOC=$RUSTDOC_BIN" \
	     "RUSTFMT=$RUSTFMT_BIN CLIPPY_DRIVER=$CLIPPY_DRIVER_BIN" \
	     "BINDGEN=$BINDGEN_ROOT/bin/bindgen RUST_LIB_SRC=$(rust_lib_src)"
}

# The Debian mirror URI configured on this machine, from deb822 or one-line
# sources; never a hard-coded host.
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f" |
			grep -v -- '-security' | grep -E '/debian/?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" |
			grep -v -- '-security' | grep -E '/debian/?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	return 1
}


# apt with a private sources list and state in the cache: the machine's apt
# configuration is not touched. trixie-backports carries 7.3 (the source and
# Debian's own 7.3 kernel), sid the newest.
PRIVATE_APT=$KINTROSPECT_CACHE/apt
private_apt() {
	apt-get -o "Dir::Etc::SourceList=$PRIVATE_APT/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$PRIVATE_APT/lists" \
		-o "Dir::Cache=$PRIVATE_APT/cache" \
		-o Dir::State::Status=/dev/null \
		-o APT::Architecture=amd64 \
		-o Acquire::Languages=none \
		-o APT::Sandbox::User=root "$@"
}
# Write the private sources list and update it once (again with $1 = force).
private_apt_update() {
	local mirror
	mirror=$(debian_mirror) || die "no Debian mirror in the apt configuration; \
set KDIR=/path/to/a/rust-enabled/kernel/build instead"
	mkdir -p "$PRIVATE_APT/lists/partial" "$PRIVATE_APT/cache/archives/partial"
	cat >"$PRIVATE_APT/sources.list.new" <<-SRC
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
	SRC
	if [ "${1:-}" != force ] && cmp -s "$PRIVATE_APT/sources.list.new" "$PRIVATE_APT/sources.list" &&
		compgen -G "$PRIVATE_APT/lists/*_Packages*" >/dev/null; then
		rm "$PRIVATE_APT/sources.list.new"
		return 0
	fi
	mv "$PRIVATE_APT/sources.list.new" "$PRIVATE_APT/sources.list"
	log "updating the private package lists from $mirror (state in $PRIVATE_APT)"
	private_apt update -qq || die "apt-get update on the private list failed"
}

# Download Debian's linux-source package $1 (NAME or NAME=VERSION) from the
# mirror and unpack its tree into $2, with the package version beside it
# (.kintrospect-package-version: scripts/stock-kernel builds Rust metadata
# only from the source its headers come from).
fetch_linux_source() {
	local pkg=${1%%=*} dest=$2 work=$PRIVATE_APT deb tarball
	private_apt_update
	rm -rf "$work/deb" && mkdir -p "$work/deb"
	(cd "$work/deb" && private_apt download "$1") ||
		die "$1 not found on the mirror; \
build against your own Rust-enabled kernel tree with KDIR=/path/to/build"
	deb=$(ls "$work"/deb/"$pkg"_*.deb | head -n1)
	rm -rf "$work/x" && mkdir -p "$work/x"
	dpkg -x "$deb" "$work/x"
	tarball=$(ls "$work"/x/usr/src/"$pkg".tar.* | head -n1)
	mkdir -p "$(dirname "$dest")"
	rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
	tar -xf "$tarball" -C "$dest.tmp" --strip-components=1
	dpkg-deb -f "$deb" Version >"$dest.tmp/.kintrospect-package-version"
	mv "$dest.tmp" "$dest"
	rm -rf "$work/x" "$work/deb"
}

# Debian's own kernel (issue 18), booted as shipped: its release, the trixie
# root its modules are built in on a Debian 12 host, and what
# scripts/stock-kernel caches there.
STOCK_RELEASE=${STOCK_RELEASE:-7.3.4+deb13-amd64}
STOCK_DIR=$KINTROSPECT_CACHE/stock
STOCK_ROOT=$STOCK_DIR/trixie
# The copy of a kernel's headers with the Rust metadata built for it.
stock_headers_copy() { echo "$STOCK_DIR/headers/$1"; }

# cargo (for bindgen-cli) comes from rustup, which a non-login shell may not
# have on PATH.
command -v cargo >/dev/null || PATH=$HOME/.cargo/bin:$PATH

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The kernel options of rust/c/features.h, one "name option level text" line
# each (the list status shows, doctor checks and the selftests need).
kintrospect_features() {
	sed -n 's/^[[:space:]]*X(\([a-z_]*\), \([A-Z0-9_]*\), \([a-z]*\), "\(.*\)")[[:space:]]*\\\{0,1\}$/\1 \2 \3 \4/p' \
		"$KINTROSPECT_ROOT/rust/c/features.h"
}
