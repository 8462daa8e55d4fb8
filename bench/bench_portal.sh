#!/bin/bash
# TCP portal bulk-transfer benchmark (issue 5). One byte stream of BENCH_MIB MiB goes from
# `bench_plain bulk-source` to `bench_plain bulk-sink`, in the same run:
#   direct   source -> sink
#   socat    source -> socat (-b 131072) -> sink
#   portal   source -> inlet (node n1) -> TCP -> outlet (node n2) -> sink
#   relay    source -> inlet (n1) -> TCP -> n2's relay -> TCP -> outlet (n3, no listener used)
#            -> sink
# The nodes are real `ockam` processes (background nodes, as users run them). For each node it
# reports its peak RSS (VmHWM) after the transfer and its RSS before it. Ratios are against
# the direct transfer of the same run.
#
#   bench/bench_portal.sh BUILD_DIR     (a Release build with ockam_cli and bench_plain:
#                                         cmake -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release
#                                         && ninja -C build/rel ockam_cli bench_plain)
#   BENCH_MIB=1024 BENCH_RUNS=3 (median of runs)
set -euo pipefail

BUILD=${1:?usage: bench_portal.sh BUILD_DIR}
OCKAM=$BUILD/ockam
PLAIN=$BUILD/bench/bench_plain
MIB=${BENCH_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
[ -x "$OCKAM" ] && [ -x "$PLAIN" ] || { echo "need $OCKAM and $PLAIN" >&2; exit 1; }
command -v socat >/dev/null || { echo "need socat" >&2; exit 1; }

WORK=$(mktemp -d)
export OCKAM_HOME=$WORK/home
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    "$OCKAM" node delete --all -y >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Start a bench_plain role in the background; its stdout goes to $WORK/$1.out.
spawn() {
    local name=$1
    shift
    "$PLAIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
}

# The "port N" line of a role (waits up to 10 s).
port_of() {
    local i
    for i in $(seq 1 200); do
        if grep -q '^port ' "$WORK/$1.out" 2>/dev/null; then
            sed -n 's/^port //p' "$WORK/$1.out" | head -1
            return
        fi
        sleep 0.05
    done
    echo "role $1 did not start: $(cat "$WORK/$1.err")" >&2
    exit 1
}

# MiB/s from the sink's result line (waits for it).
result_of() {
    local i
    for i in $(seq 1 6000); do
        if grep -q '^result ' "$WORK/$1.out" 2>/dev/null; then
            sed -n 's/.*mib_s=\([0-9.]*\).*/\1/p' "$WORK/$1.out" | head -1
            return
        fi
        sleep 0.05
    done
    echo "no result from $1" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

kib() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }
pid_of() { "$OCKAM" node show "$1" --output json | jq -r .pid; }

# One transfer into port $2, measured at sink $1.
transfer() {
    "$PLAIN" bulk-source "port=$2" "mib=$MIB" >/dev/null
    result_of "$1"
}

run_direct() {
    spawn sink bulk-sink
    transfer sink "$(port_of sink)"
}

run_socat() {
    spawn sink bulk-sink
    spawn socat socat "to=$(port_of sink)"
    transfer sink "$(port_of socat)"
}

# Record each node's RSS now (before) into $WORK/rss.<node>.before.
note_rss() {
    local n
    for n in "$@"; do kib "$(pid_of "$n")" VmRSS >"$WORK/rss.$n.before"; done
}

report_rss() {
    local n
    for n in "$@"; do
        echo "    $n: peak RSS $(( $(kib "$(pid_of "$n")" VmHWM) / 1024 )) MiB (before: $(( $(cat "$WORK/rss.$n.before") / 1024 )) MiB)"
    done
}

run_portal() {
    spawn sink bulk-sink
    local sink inlet
    sink=$(port_of sink)
    "$OCKAM" node create n1 >/dev/null
    "$OCKAM" node create n2 >/dev/null
    "$OCKAM" tcp-outlet create --at n2 --to "127.0.0.1:$sink" >/dev/null
    inlet=$(free_port)
    "$OCKAM" tcp-inlet create --at n1 --from "127.0.0.1:$inlet" --to /node/n2/service/outlet >/dev/null
    note_rss n1 n2
    transfer sink "$inlet"
    report_rss n1 n2 >"$WORK/rss.portal"
    "$OCKAM" node delete --all -y >/dev/null
}

run_relay() {
    spawn sink bulk-sink
    local sink inlet
    sink=$(port_of sink)
    "$OCKAM" node create n2 >/dev/null
    "$OCKAM" node create n3 >/dev/null
    "$OCKAM" node create n1 >/dev/null
    "$OCKAM" relay create n3 --at /node/n2 --to n3 >/dev/null
    "$OCKAM" tcp-outlet create --at n3 --to "127.0.0.1:$sink" >/dev/null
    inlet=$(free_port)
    "$OCKAM" tcp-inlet create --at n1 --from "127.0.0.1:$inlet" \
        --to /node/n2/service/forward_to_n3/service/outlet >/dev/null
    note_rss n1 n2 n3
    transfer sink "$inlet"
    report_rss n1 n2 n3 >"$WORK/rss.relay"
    "$OCKAM" node delete --all -y >/dev/null
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

declare -A RES
for impl in direct socat portal relay; do
    : >"$WORK/runs.$impl"
    for r in $(seq 1 "$RUNS"); do
        "run_$impl" >>"$WORK/runs.$impl"
    done
    RES[$impl]=$(median <"$WORK/runs.$impl")
done

echo "TCP portal bulk transfer: $MIB MiB, median of $RUNS runs ($(nproc) CPUs)"
for impl in direct socat portal relay; do
    printf '  %-7s %8.1f MiB/s  %5.1f%% of direct  (runs: %s)\n' "$impl" "${RES[$impl]}" \
        "$(awk -v a="${RES[$impl]}" -v b="${RES[direct]}" 'BEGIN {print 100 * a / b}')" \
        "$(tr '\n' ' ' <"$WORK/runs.$impl")"
done
echo "  portal vs socat: $(awk -v a="${RES[portal]}" -v b="${RES[socat]}" 'BEGIN {printf "%.1f%%", 100 * a / b}')"
echo "  node memory, last portal run:"
cat "$WORK/rss.portal"
echo "  node memory, last relay run:"
cat "$WORK/rss.relay"
