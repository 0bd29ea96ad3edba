#!/bin/sh
# Solution 11 against node-oidc-provider, a certified OpenID Provider: it signs
# in with --issuer (discovery, PKCE, a nonce) and verifies the provider's ES256
# ID token. Needs Node.js 20 or later and npm; fetches oidc-provider from npm at
# the version pinned in .ci/oidc-op/package-lock.json, into a scratch folder.
set -eu
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "oidc-op: needs Node.js and npm: install them (Debian: apt-get install nodejs npm) and run again" >&2
    exit 1
fi
work="${TMPDIR:-/tmp}/oauth2-lab-oidc-op"
mkdir -p "$work"
cp .ci/oidc-op/package.json .ci/oidc-op/package-lock.json .ci/oidc-op/run.mjs "$work/"
(cd "$work" && npm ci --no-audit --no-fund --silent)
cargo build --locked --quiet -p solution11
node "$work/run.mjs" "${CARGO_TARGET_DIR:-target}/debug/solution11"
