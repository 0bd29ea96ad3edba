#!/usr/bin/env bash
# Windows: the whole workspace, every target, checked for x86_64-pc-windows-gnu
# with the declared minimum Rust (see .ci/msrv.sh), without warnings. rustup
# cannot fetch that target's standard library here, so it is built from Debian's
# rust-web-src of the same version (-Zbuild-std, which a stable compiler allows
# with RUSTC_BOOTSTRAP=1); ring's C code needs MinGW's gcc.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^rust-version = "\([0-9.]*\)"/\1/p' Cargo.toml | head -n1)
toolchain="rust-$version"
cargo "+$toolchain" --version >/dev/null 2>&1 || bash .ci/msrv.sh
if [[ ! -d /usr/lib/rustlib/src/rust/library ]] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
    [[ $(id -u) -eq 0 ]] || as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
    "${as_root[@]}" apt-get update -q
    debian=$(apt-cache madison rust-web-src | awk -v v="$version" '$3 ~ "^"v"[.]" {print $3; exit}')
    [ -n "$debian" ] || { echo "windows: Debian has no rust-web-src $version" >&2; exit 1; }
    "${as_root[@]}" apt-get install -y -q "rust-web-src=$debian" gcc-mingw-w64-x86-64
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/windows cargo "+$toolchain" check --workspace \
    --all-targets --locked --target x86_64-pc-windows-gnu -Zbuild-std=std,panic_abort 2>&1 | tee "$log"
# The standard library's own build may warn; the workspace's code must not.
warned=$(grep -E '^warning: `[^`]+` \(.*\) generated [0-9]+ warning' "$log" || true)
if [ -n "$warned" ]; then
    echo "windows: the workspace has warnings on Windows:" >&2
    echo "$warned" >&2
    exit 1
fi
echo "windows: the workspace checks clean for x86_64-pc-windows-gnu with Rust $version"
