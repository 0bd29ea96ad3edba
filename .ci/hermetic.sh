#!/usr/bin/env bash
# Runs a command (the test suite) next to what a student often has running: a mock
# provider of their own on 127.0.0.1:9000, here a hostile one (codes that expire
# at once, one request a second), and a listener on 127.0.0.1:8000. The tests
# must pass anyway and neither may see a single request: no test depends on, or
# talks to, whatever answers on those ports.
#
#   bash .ci/hermetic.sh cargo test --locked
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$scratch"
}
trap cleanup EXIT

cargo build --quiet --locked -p mock-provider
target/debug/mock-provider --port 9000 --code-ttl 1ms --token-ttl 1s --rate-limit 1/s \
    >"$scratch/9000.log" 2>&1 &
pids+=($!)
python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8000))
s.listen(128)
print("listening", flush=True)
while True:
    connection, peer = s.accept()
    print("connection from", peer, flush=True)
    connection.close()
' >"$scratch/8000.log" 2>&1 &
pids+=($!)

events() {
    python3 -c '
import json, sys, urllib.request
events = json.load(urllib.request.urlopen("http://127.0.0.1:9000/_lab/events", timeout=2))["events"]
for e in events:
    print(e["request"], "from", e["actor"], "->", e["status"])
' 2>/dev/null
}
for _ in $(seq 50); do
    if events >/dev/null && grep -q listening "$scratch/8000.log"; then
        break
    fi
    sleep 0.1
done
events >/dev/null || {
    cat "$scratch/9000.log" >&2
    echo "hermetic: the hostile provider did not start on 127.0.0.1:9000 (is the port taken?)" >&2
    exit 1
}
grep -q listening "$scratch/8000.log" || {
    cat "$scratch/8000.log" >&2
    echo "hermetic: nothing listens on 127.0.0.1:8000 (is the port taken?)" >&2
    exit 1
}
echo "hostile provider on 127.0.0.1:9000, listener on 127.0.0.1:8000"

"$@"

seen=$(events)
connections=$(grep -c '^connection' "$scratch/8000.log" || true)
if [ -n "$seen" ] || [ "$connections" != 0 ]; then
    echo "hermetic: the tests reached what answers on this machine's ports:" >&2
    [ -z "$seen" ] || printf '127.0.0.1:9000 received:\n%s\n' "$seen" >&2
    [ "$connections" = 0 ] || grep '^connection' "$scratch/8000.log" >&2
    echo "tell the program under test where its provider is (LAB_MOCK_URL or explicit endpoints) and use port 0" >&2
    exit 1
fi
echo "hermetic: 127.0.0.1:9000 and 127.0.0.1:8000 saw no request"
