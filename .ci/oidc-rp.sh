#!/usr/bin/env bash
# An outside, certified OpenID Connect relying party (openid-client for Node,
# pinned in .ci/oidc-rp/package-lock.json) completes a code flow with PKCE and
# a nonce against the mock provider, and accepts its ID token and /userinfo.
# The provider runs on a free port with --auto-approve alice; nothing else is
# reached. Needs node 20 or later and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null && [[ "${CI:-}" == true ]] && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
fi
command -v node >/dev/null || { echo "node is missing: install Node.js 20 or later (Debian: apt-get install nodejs npm)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
(( major >= 20 )) || { echo "node $(node --version) is too old for openid-client 6: install Node.js 20 or later" >&2; exit 1; }
cargo build --locked -q -p mock-provider

# The packages go to a scratch folder, not into the checkout, whose own checks
# read every text file in it.
work=$(mktemp -d)
provider=""
trap '[[ -n "$provider" ]] && kill "$provider" 2>/dev/null; rm -rf "$work"' EXIT
cp .ci/oidc-rp/package.json .ci/oidc-rp/package-lock.json .ci/oidc-rp/rp.mjs "$work"/
(cd "$work" && npm ci --no-audit --no-fund --silent)

out="$work/provider.out"
target/debug/mock-provider --port 0 --auto-approve alice --quiet >"$out" 2>&1 &
provider=$!
issuer=""
for _ in $(seq 100); do
    issuer=$(sed -n 's/^OAuth2 Lab mock provider listening on \(http[^ ]*\).*/\1/p' "$out")
    [[ -n "$issuer" ]] && break
    sleep 0.1
done
[[ -n "$issuer" ]] || { echo "the mock provider did not start:" >&2; cat "$out" >&2; exit 1; }
node "$work/rp.mjs" "$issuer"
