#!/usr/bin/env bash
# The chaos run (`make chaos`; minutes, needs root, not in CI).
#
# Design. Three real `ockam` nodes (release build, OCKAM_HOME in a temporary directory), each
# in its own network namespace joined by veth pairs (addresses from 198.18.0.0/15 only):
#
#   ns1: n1 (tcp-inlet, 127.0.0.1:7100)   clients        198.18.1.2 --- 198.18.1.1
#   ns2: n2 (relay node, 0.0.0.0:P2)                      198.18.3.1 --- 198.18.3.2
#   ns3: n3 (relay forward_to_n3 at n2, tcp-outlet -> 127.0.0.1:7000)  server
#
# (fixed ports are safe: nothing else lives in these namespaces). Traffic for CHAOS_MINUTES
# (default 3):
#   - 20 portal transfers (scripts/chaos_tool.py transfer) n1's inlet -> n2's relay -> n3's
#     outlet -> server, random sizes (64 KiB..24 MiB), random direction (GET or PUT), rate
#     limited so they overlap the faults, each checked with SHA-256 and classified ok |
#     failed (the client saw an error) | short_clean | corrupt | stalled. The server logs
#     every upload it got, so an upload cut with a clean EOF is seen too;
#   - a routed message stream (tests/chaos/chaos_stream) with sequence numbers, from an
#     in-process node through n1's hop, n2's relay and n3's echo, every 20 ms.
# Meanwhile the fault driver picks, every 2-6 s, one of:
#   kill-n2 / kill-n3  kill -9, down 0-3 s, then `ockam node start` in its namespace;
#   reset              nftables in ns2 rejects n2's port with TCP resets for 1 s;
#   drop               nftables in ns2 drops n2's port for 3-6 s (a black hole);
#   flood              3 s of connections sending garbage to n2's listener (half end in RST).
# After each fault it measures the recovery: the time from the node coming back (or the rule
# going away) until n3's relay is Up, a 4 KiB probe through the inlet is identical and
# `ockam message send --from n1` through the relay is echoed. At the end it waits for the
# transfers, stops the stream and waits (30 s at most) for every node's RSS and open fds to
# come back to at most 10% above their baseline (taken after warm-up; fds: at least +2; a
# restarted node starts lower, which is fine).
#
# Asserts: no short_clean, corrupt or stalled transfer; no upload cut short with a clean EOF
# at the server; no duplicate or reordered message in the stream; every recovery <= 15 s;
# RSS and fds back near baseline. Prints the summary table; exit 1 when an assertion fails.
# Everything (nodes, helpers, namespaces, veths) is removed on exit, failure or signal; the
# logs are kept (path printed) when the run fails or CHAOS_KEEP=1.
#
# Usage: scripts/chaos.sh [BUILD_DIR]   env: CHAOS_MINUTES, CHAOS_SEED, CHAOS_KEEP
set -euo pipefail

build=${1:-build/release}
MINUTES=${CHAOS_MINUTES:-3}
SEED=${CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}
TRANSFERS=20
RECOVERY_LIMIT=15
[ "$(id -u)" = 0 ] || { echo "chaos: needs root (network namespaces, nftables)" >&2; exit 77; }
for c in ip nft jq python3; do
    command -v "$c" >/dev/null || { echo "chaos: $c is not installed" >&2; exit 77; }
done
bin=$(realpath "$build/ockam")
stream=$(realpath "$build/tests/chaos/chaos_stream")
tool=$(realpath "$(dirname "$0")/chaos_tool.py")
RANDOM=$((SEED % 32768))

WORK=$(mktemp -d /tmp/ockam-chaos.XXXXXX)
export OCKAM_HOME=$WORK/home
tag=$$
ns1=ockc1-$tag ns2=ockc2-$tag ns3=ockc3-$tag
v1=oc1a$tag v3=oc3a$tag
BG=()       # helper processes we started
FAILED=""   # set on any failed assertion

cleanup() {
    local rc=$? p n
    trap - EXIT INT TERM
    for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
    for n in n1 n2 n3; do
        p=$(cat "$WORK/pid.$n" 2>/dev/null || true)
        [ -z "$p" ] || kill -9 "$p" 2>/dev/null || true
    done
    "$bin" node delete --all -y >/dev/null 2>&1 || true
    for p in "${BG[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in "$ns1" "$ns2" "$ns3"; do ip netns del "$n" 2>/dev/null || true; done
    ip link del "$v1" 2>/dev/null || true
    ip link del "$v3" 2>/dev/null || true
    if [ -n "$FAILED" ] || [ $rc -ne 0 ] || [ -n "${CHAOS_KEEP:-}" ]; then
        echo "chaos: logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ockam() { "$bin" "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
log() { printf '[%6.1fs] %s\n' "$(awk -v a="$T0" -v b="$(now)" 'BEGIN { print b - a }')" "$*"; }
fail() { FAILED=1; echo "FAIL: $*" | tee -a "$WORK/failures"; }
T0=$(now)

# ---- network ----------------------------------------------------------------------------
for n in "$ns1" "$ns2" "$ns3"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add "$v1" netns "$ns1" type veth peer name "${v1}p" netns "$ns2"
ip link add "$v3" netns "$ns3" type veth peer name "${v3}p" netns "$ns2"
ip -n "$ns1" addr add 198.18.1.2/30 dev "$v1"
ip -n "$ns2" addr add 198.18.1.1/30 dev "${v1}p"
ip -n "$ns3" addr add 198.18.3.2/30 dev "$v3"
ip -n "$ns2" addr add 198.18.3.1/30 dev "${v3}p"
ip -n "$ns1" link set "$v1" up
ip -n "$ns2" link set "${v1}p" up
ip -n "$ns3" link set "$v3" up
ip -n "$ns2" link set "${v3}p" up

# ---- nodes, relay, portal -----------------------------------------------------------------
node_pid() { ockam node show "$1" --output json | jq -r .pid; }
save_pid() { node_pid "$1" >"$WORK/pid.$1"; }
in_ns "$ns2" "$bin" node create n2 --tcp-listener-address 0.0.0.0:0 >/dev/null
P2=$(ockam node show n2 --output json | jq -r .tcp_listener_address | sed 's/.*://')
in_ns "$ns1" "$bin" node create n1 --allow-outgoing "198.18.1.1:$P2" >/dev/null
in_ns "$ns3" "$bin" node create n3 >/dev/null
N1=$(ockam node show n1 --output json | jq -r .tcp_listener_address)
for n in n1 n2 n3; do save_pid $n; done
ip netns exec "$ns3" python3 "$tool" server 7000 "$WORK/uploads.jsonl" >"$WORK/server.log" 2>&1 &
BG+=($!)
ockam relay create n3 --at "/ip4/198.18.3.1/tcp/$P2" --to n3 >/dev/null
ockam tcp-outlet create --at n3 --from outlet --to 127.0.0.1:7000 >/dev/null
ockam tcp-inlet create --at n1 --from 127.0.0.1:7100 --alias chaos \
    --to "/ip4/198.18.1.1/tcp/$P2/service/forward_to_n3/service/outlet" >/dev/null

relay_up() { [ "$(ockam relay show n3 --at n3 --output json 2>/dev/null | jq -r .connection_status)" = Up ]; }
probe_ok() { in_ns "$ns1" python3 "$tool" probe 7100 >/dev/null 2>&1; }
message_ok() {
    [ "$(ockam message send chaos --from n1 --timeout 2s \
        --to "/ip4/198.18.1.1/tcp/$P2/service/forward_to_n3/service/echo" 2>/dev/null)" = chaos ]
}
# Seconds until the relay, the portal and routed messages all work again (-1: not in 60 s).
recovery() {
    local start deadline
    start=$(now)
    deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        if relay_up && probe_ok && message_ok; then
            elapsed "$start"
            return
        fi
        sleep 0.2
    done
    echo -1
}
r=$(recovery)
[ "$r" != -1 ] || { echo "chaos: the portal never came up" >&2; FAILED=1; exit 1; }
log "setup done: n2 listens on 198.18.1.1/198.18.3.1:$P2, seed $SEED, $MINUTES min"

# ---- measurement ------------------------------------------------------------------------
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
monitor() {
    local n p r
    while :; do
        for n in n1 n2 n3; do
            p=$(cat "$WORK/pid.$n" 2>/dev/null) || continue
            r=$(rss_kb "$p")
            if [ "${r:-0}" -gt "$(cat "$WORK/peak.$n" 2>/dev/null || echo 0)" ]; then
                echo "$r" >"$WORK/peak.$n"
            fi
        done
        sleep 0.5
    done
}

# The stream (started with ip netns exec directly, so that $! is the stream itself and the
# SIGTERM at the end reaches it), and a warm-up so the baseline includes what a first transfer allocates.
ip netns exec "$ns1" "$stream" "1#$N1 => 0#hop => 1#198.18.1.1:$P2 => 0#forward_to_n3 => 0#echo" \
    $((MINUTES * 60 + 600)) 20 "$WORK/stream.json" >"$WORK/stream.log" 2>&1 &
STREAM=$!
BG+=($STREAM)
WARM=()
# Warm-up: the largest transfers at full speed, a few at once, so that the allocator's working
# set is in the baseline and what stays above it afterwards is a leak, not a high-water mark.
for i in 1 2 3 4; do
    in_ns "$ns1" python3 "$tool" transfer 7100 warm $((24 * 1048576)) $i get 0 60 >/dev/null &
    BG+=($!)
    WARM+=($!)
done
in_ns "$ns1" python3 "$tool" transfer 7100 warm $((24 * 1048576)) 5 put 0 60 >/dev/null || true
for p in "${WARM[@]}"; do wait "$p" || true; done
sleep 3 # portal workers linger 2 s after a connection closes
declare -A BASE_RSS BASE_FD BASE_W END_W
workers() { ockam worker list --at "$1" --output json | jq length; }
for n in n1 n2 n3; do
    p=$(cat "$WORK/pid.$n")
    BASE_W[$n]=$(workers $n)
    BASE_RSS[$n]=$(rss_kb "$p")
    BASE_FD[$n]=$(fd_count "$p")
    echo "${BASE_RSS[$n]}" >"$WORK/peak.$n"
done
monitor &
BG+=($!)
log "baseline: $(for n in n1 n2 n3; do printf '%s %s KiB %s fds  ' $n "${BASE_RSS[$n]}" "${BASE_FD[$n]}"; done)"

# ---- transfers ----------------------------------------------------------------------------
DURATION=$((MINUTES * 60))
: >"$WORK/transfers.jsonl"
TPIDS=()
for i in $(seq 1 $TRANSFERS); do
    delay=$((RANDOM % (DURATION * 7 / 10 + 1)))
    size=$(((RANDOM * 32768 + RANDOM) % (24 * 1048576 - 65536) + 65536))
    dir=get
    [ $((RANDOM % 2)) = 0 ] || dir=put
    rate=$(((RANDOM % 7 + 2) * 1048576))
    (
        sleep "$delay"
        in_ns "$ns1" python3 "$tool" transfer 7100 "$i" "$size" "$i$RANDOM" "$dir" "$rate" 180 \
            >>"$WORK/transfers.jsonl"
    ) &
    TPIDS+=($!)
    BG+=($!)
done

# ---- faults ---------------------------------------------------------------------------------
: >"$WORK/faults.jsonl"
record() { # fault recovery_seconds
    echo "{\"fault\": \"$1\", \"recovery\": $2}" >>"$WORK/faults.jsonl"
    log "$1: recovered in ${2}s"
    if [ "$2" = -1 ] || awk -v r="$2" -v l=$RECOVERY_LIMIT 'BEGIN { exit !(r > l) }'; then
        fail "$1: recovery ${2}s (limit ${RECOVERY_LIMIT}s)"
    fi
}
kill_node() { # n ns
    local p
    p=$(cat "$WORK/pid.$1")
    kill -9 "$p"
    while [ -e "/proc/$p" ]; do sleep 0.05; done
    sleep "$((RANDOM % 4))"
    in_ns "$2" "$bin" node start "$1" >/dev/null
    save_pid "$1"
    record "kill-$1" "$(recovery)"
}
nft_fault() { # reject|drop seconds
    local verdict=drop
    [ "$1" = reject ] && verdict="reject with tcp reset"
    in_ns "$ns2" nft -f - <<NFT
table inet chaos {
    chain in { type filter hook input priority 0; tcp dport $P2 $verdict; }
    chain out { type filter hook output priority 0; tcp sport $P2 $verdict; }
}
NFT
    sleep "$2"
    in_ns "$ns2" nft delete table inet chaos
    record "$([ "$1" = reject ] && echo reset || echo drop)" "$(recovery)"
}
flood() {
    local n
    n=$(in_ns "$ns1" python3 "$tool" flood 198.18.1.1 "$P2" 3)
    echo "$n" >>"$WORK/flood.count"
    record flood "$(recovery)"
}

END=$((SECONDS + DURATION))
while [ $SECONDS -lt $END ]; do
    sleep "$((RANDOM % 5 + 2))"
    case $((RANDOM % 5)) in
    0) log "kill -9 n2"; kill_node n2 "$ns2" ;;
    1) log "kill -9 n3"; kill_node n3 "$ns3" ;;
    2) log "reset n2's port for 1 s"; nft_fault reject 1 ;;
    3) d=$((RANDOM % 4 + 3)); log "drop n2's port for $d s"; nft_fault drop "$d" ;;
    4) log "flood n2's listener for 3 s"; flood ;;
    esac
done
log "faults over; waiting for the transfers"
for p in "${TPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
kill -TERM "$STREAM"
wait "$STREAM" || true

# ---- settle: memory and fds back near baseline -------------------------------------------------
near() { # value base pct min_slack: value <= base + max(base * pct%, min_slack)
    awk -v v="$1" -v b="$2" -v p="$3" -v m="$4" \
        'BEGIN { s = b * p / 100; if (s < m) s = m; exit !(v <= b + s) }'
}
settled() {
    local n p
    for n in n1 n2 n3; do
        p=$(cat "$WORK/pid.$n")
        near "$(rss_kb "$p")" "${BASE_RSS[$n]}" 10 0 || return 1
        near "$(fd_count "$p")" "${BASE_FD[$n]}" 10 2 || return 1
    done
}
deadline=$((SECONDS + 30))
until settled || [ $SECONDS -ge $deadline ]; do sleep 1; done
declare -A END_RSS END_FD
for n in n1 n2 n3; do
    p=$(cat "$WORK/pid.$n")
    END_RSS[$n]=$(rss_kb "$p")
    END_FD[$n]=$(fd_count "$p")
    END_W[$n]=$(workers $n)
    near "${END_RSS[$n]}" "${BASE_RSS[$n]}" 10 0 ||
        fail "$n: RSS ${END_RSS[$n]} KiB, baseline ${BASE_RSS[$n]} KiB (more than 10%)"
    near "${END_FD[$n]}" "${BASE_FD[$n]}" 10 2 ||
        fail "$n: ${END_FD[$n]} open fds, baseline ${BASE_FD[$n]}"
done

# ---- assertions on the traffic ---------------------------------------------------------------
bad=$(jq -c 'select(.status != "ok" and .status != "failed")' "$WORK/transfers.jsonl")
[ -z "$bad" ] || while read -r l; do fail "transfer: $l"; done <<<"$bad"
done_count=$(wc -l <"$WORK/transfers.jsonl")
[ "$done_count" = $TRANSFERS ] || fail "only $done_count of $TRANSFERS transfers reported"
cut=$(jq -c 'select(.eof == "clean" and .got < .size)' "$WORK/uploads.jsonl" 2>/dev/null || true)
[ -z "$cut" ] || while read -r l; do fail "upload cut short with a clean EOF at the server: $l"; done <<<"$cut"
S=$(cat "$WORK/stream.json" 2>/dev/null || true)
[ -n "$S" ] || fail "the stream wrote no counters (see $WORK/stream.log)"
if [ -n "$S" ] && [ "$(jq '.duplicates + .misordered + .malformed' <<<"$S")" != 0 ]; then
    fail "stream: $S"
fi

# ---- summary ------------------------------------------------------------------------------------
pct() { # percentile of the recoveries of the kill/reset/drop/flood faults
    jq -s "[.[].recovery | select(. >= 0)] | sort | if length == 0 then \"-\" else
        .[((length - 1) * $1 / 100 | ceil)] end" "$WORK/faults.jsonl"
}
count() { jq -s "[.[] | select($1)] | length" "$2"; }
echo
echo "== chaos summary (seed $SEED, $MINUTES min)"
printf '%-28s %s\n' "faults injected" "$(jq -s 'length' "$WORK/faults.jsonl")"
for f in kill-n2 kill-n3 reset drop flood; do
    printf '%-28s %s\n' "  $f" "$(count ".fault == \"$f\"" "$WORK/faults.jsonl")"
done
printf '%-28s %s\n' "  garbage connections" "$(awk '{ s += $1 } END { print s + 0 }' "$WORK/flood.count" 2>/dev/null || echo 0)"
printf '%-28s %s\n' "transfers ok" "$(count '.status == "ok"' "$WORK/transfers.jsonl")"
printf '%-28s %s\n' "transfers failed (reported)" "$(count '.status == "failed"' "$WORK/transfers.jsonl")"
printf '%-28s %s\n' "transfers short/corrupt/stalled" "$(count '.status != "ok" and .status != "failed"' "$WORK/transfers.jsonl")"
printf '%-28s %s\n' "bytes moved ok" "$(jq -s '[.[] | select(.status == "ok") | .size] | add // 0' "$WORK/transfers.jsonl")"
[ -z "$S" ] || printf '%-28s %s\n' "stream" "$(jq -r '"sent \(.sent), received \(.received), lost \(.lost), dup \(.duplicates), reordered \(.misordered)"' <<<"$S")"
printf '%-28s %s s / %s s\n' "recovery p50 / p99" "$(pct 50)" "$(pct 99)"
printf '%-28s %s s\n' "recovery max" "$(jq -s '[.[].recovery] | max' "$WORK/faults.jsonl")"
for n in n1 n2 n3; do
    printf '%-28s peak %s KiB, baseline %s KiB, end %s KiB; fds %s -> %s; workers %s -> %s\n' \
        "memory $n" "$(cat "$WORK/peak.$n")" "${BASE_RSS[$n]}" "${END_RSS[$n]}" "${BASE_FD[$n]}" \
        "${END_FD[$n]}" "${BASE_W[$n]}" "${END_W[$n]}"
done
if [ -n "$FAILED" ]; then
    echo "== FAILED:"
    cat "$WORK/failures"
    exit 1
fi
echo "== all assertions held"
