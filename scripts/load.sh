#!/usr/bin/env bash
# Load held (`make load`; not in CI): LOAD_CONNECTIONS (default 1000) portal connections open
# at the same time through one relay, every one moving LOAD_SIZE bytes (default 1 MiB)
# checked with SHA-256, and the peak RSS of each node; then LOAD_CHANNELS (default 10000)
# secure channels open at the same time between two nodes (tests/chaos/sc_load.c: two
# processes over TCP, one echoed message through each channel), with each node's peak RSS.
#
# Design. Real `ockam` nodes on 127.0.0.1 (release build, OCKAM_HOME in a temporary
# directory, ports read back from binds of port 0): n3 registers relay forward_to_n3 at n2 and
# has an outlet to scripts/chaos_tool.py's server; n1 has the inlet. The client
# (chaos_tool.py load) opens every connection first; once all are accepted (so N portal
# connections cross the relay at once, checked with `tcp-inlet show`), it sends all requests
# and reads every reply to EOF.
# A sampler records each node's RSS every 0.2 s. Asserts: every connection ok (identical
# bytes), the inlet saw N connections at once, and each node's peak RSS stays under
# LOAD_RSS_LIMIT_MB (default 256: bounded, not proportional to the bytes moved, N * SIZE).
# After the traffic, every node must return to its baseline worker count and fds.
# Everything is removed on exit (trap).
#
# Usage: scripts/load.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build/release}
N=${LOAD_CONNECTIONS:-1000}
SIZE=${LOAD_SIZE:-1048576}
LIMIT_MB=${LOAD_RSS_LIMIT_MB:-256}
bin=$(realpath "$build/ockam")
tool=$(realpath "$(dirname "$0")/chaos_tool.py")
sc_load=$(realpath "$build/tests/chaos/sc_load")
CHANNELS=${LOAD_CHANNELS:-10000}
# N sockets on the inlet, N on the outlet, N in the client and the server (same process tree).
ulimit -n $((N * 4 + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
WORK=$(mktemp -d /tmp/ockam-load.XXXXXX)
export OCKAM_HOME=$WORK/home
BG=()
FAILED=""
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
    "$bin" node delete --all -y >/dev/null 2>&1 || true
    for p in "${BG[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ $rc -ne 0 ] || [ -n "${LOAD_KEEP:-}" ]; then echo "load: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ockam() { "$bin" "$@"; }
fail() { FAILED=1; echo "FAIL: $*"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
workers() { ockam worker list --at "$1" --output json | jq length; }

python3 "$tool" server 0 "$WORK/uploads.jsonl" "$WORK/server.port" >"$WORK/server.log" 2>&1 &
BG+=($!)
for _ in $(seq 100); do [ -e "$WORK/server.port" ] && break; sleep 0.1; done
SPORT=$(cat "$WORK/server.port") # fails (set -e) when the server never listened
ockam node create n2 >/dev/null
ockam node create n3 >/dev/null
ockam node create n1 >/dev/null
ockam relay create n3 --at /node/n2 --to n3 >/dev/null
ockam tcp-outlet create --at n3 --from outlet --to "127.0.0.1:$SPORT" >/dev/null
IPORT=$(ockam tcp-inlet create --at n1 --from 127.0.0.1:0 --alias load \
    --to /node/n2/service/forward_to_n3/service/outlet)
IPORT=${IPORT##*:}
declare -A PID BASE_RSS BASE_FD BASE_W
for n in n1 n2 n3; do PID[$n]=$(ockam node show $n --output json | jq -r .pid); done
until python3 "$tool" probe "$IPORT"; do sleep 0.2; done
sleep 3 # the probe's portal workers linger 2 s
for n in n1 n2 n3; do
    BASE_RSS[$n]=$(rss_kb "${PID[$n]}")
    BASE_FD[$n]=$(fd_count "${PID[$n]}")
    BASE_W[$n]=$(workers $n)
    echo "${BASE_RSS[$n]}" >"$WORK/peak.$n"
done
(
    while :; do
        for n in n1 n2 n3; do
            r=$(rss_kb "${PID[$n]}")
            [ "$r" -le "$(cat "$WORK/peak.$n")" ] || echo "$r" >"$WORK/peak.$n"
        done
        sleep 0.2
    done
) &
BG+=($!)

echo "== $N concurrent portal connections through one relay, $SIZE bytes each"
python3 "$tool" load "$IPORT" "$N" "$SIZE" 120 "$WORK/connected" >"$WORK/load.json" &
LOADER=$!
BG+=($LOADER)
while [ ! -e "$WORK/connected" ] && kill -0 $LOADER 2>/dev/null; do sleep 0.1; done
sleep 1
open_conns=$(ockam tcp-inlet show load --at n1 --output json | jq .connections)
wait $LOADER || fail "the load client failed"
R=$(cat "$WORK/load.json")
echo "$R"
[ "$(jq -r ".results.ok // 0" <<<"$R")" = "$N" ] || fail "not every connection got identical bytes: $R"
[ "$open_conns" = "$N" ] || fail "the inlet had $open_conns connections open at once, not $N"

# Back to baseline: workers after their linger, fds.
settle_deadline=$((SECONDS + 30))
settled() {
    local n
    for n in n1 n2 n3; do
        [ "$(workers $n)" = "${BASE_W[$n]}" ] || return 1
        [ "$(fd_count "${PID[$n]}")" -le $((BASE_FD[$n] + 2)) ] || return 1
    done
}
until settled || [ $SECONDS -ge $settle_deadline ]; do sleep 0.5; done
echo
printf '%-4s %12s %12s %12s %10s %10s\n' node "base KiB" "peak KiB" "end KiB" fds workers
for n in n1 n2 n3; do
    peak=$(cat "$WORK/peak.$n")
    printf '%-4s %12s %12s %12s %4s->%-4s %4s->%-4s\n' $n "${BASE_RSS[$n]}" "$peak" \
        "$(rss_kb "${PID[$n]}")" "${BASE_FD[$n]}" "$(fd_count "${PID[$n]}")" "${BASE_W[$n]}" "$(workers $n)"
    [ "$peak" -le $((LIMIT_MB * 1024)) ] || fail "$n: peak RSS $peak KiB above ${LIMIT_MB} MiB"
done
settled || fail "workers or fds did not return to baseline within 30 s"
echo "open at once through the relay: $open_conns"

echo
echo "== $CHANNELS secure channels between two nodes"
SC=$("$sc_load" "$CHANNELS") || fail "not every secure channel opened and echoed"
echo "$SC"
printf 'initiator peak RSS %s KiB, responder peak RSS %s KiB (%s channels open at once)\n' \
    "$(jq .initiator_peak_rss_kb <<<"$SC")" "$(jq .responder_peak_rss_kb <<<"$SC")" \
    "$(jq .opened <<<"$SC")"
[ -z "$FAILED" ] || exit 1
echo "== load held"
