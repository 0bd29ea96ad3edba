#!/usr/bin/env bash
# The minimum Rust the workspace declares (`rust-version` in Cargo.toml), proven:
# the whole workspace, every target, checked with exactly that toolchain. It is
# Debian's `rustc-web`/`cargo-web` of that version (what a student who installs
# Rust from Debian 12 gets), linked into rustup as `rust-VERSION`.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^rust-version = "\([0-9.]*\)"/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || { echo "msrv: no rust-version in Cargo.toml" >&2; exit 1; }
toolchain="rust-$version"

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
    [[ $(id -u) -eq 0 ]] || as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
    "${as_root[@]}" apt-get update -q
    debian=$(apt-cache madison rustc-web | awk -v v="$version" '$3 ~ "^"v"[.]" {print $3; exit}')
    [ -n "$debian" ] || { echo "msrv: Debian has no rustc-web $version" >&2; exit 1; }
    "${as_root[@]}" apt-get install -y -q "rustc-web=$debian" "cargo-web=$debian" \
        "libstd-rust-web-dev=$debian"
    # Debian installs it as /usr/bin/rustc and /usr/bin/cargo: reached only
    # through rustup's link, so the default toolchain stays what it was.
    rustup toolchain link "$toolchain" /usr
fi
cargo "+$toolchain" --version
CARGO_TARGET_DIR=target/msrv cargo "+$toolchain" check --workspace --all-targets --locked
echo "msrv: the workspace builds with Rust $version, as Cargo.toml and the README say"
