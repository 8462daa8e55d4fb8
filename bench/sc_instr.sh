#!/usr/bin/env bash
# Instructions per message and per handshake through a secure channel, counted by callgrind:
# repeatable on a busy machine, where wall-clock throughput is not. Each role runs under
# callgrind twice, with a small and a big message count; the difference divided by the
# difference of the counts is the cost of one message (start-up, the handshake and the
# connection cancel out). Sender and receiver are counted separately.
#
# Usage: bench/sc_instr.sh [BIN_DIR]   (default build/release/bench; a build with -g lets
#                                       callgrind_annotate name the lines)
#   SIZES="256 65536"  SC="0 1"  HS=1 (0: skip the handshakes)  KEEP=dir (keep the profiles)
# Output: one line per case, "sc=1 size=65536 tx_instr=... rx_instr=..." and
# "handshake client_instr=... server_instr=...".
#
# Valgrind reports a CPU without AVX-512, so OpenSSL takes its AES-NI/AVX2 path here: the
# cipher's share differs from the real machine's, what the channel adds around it does not.
set -euo pipefail

bin=${1:-build/release/bench}
sizes=${SIZES:-256 65536}
modes=${SC:-0 1}
tmp=$(mktemp -d)
keep=${KEEP:-}
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$tmp"/*.out "$keep"/ 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

cg() { # OUTFILE CMD...
    local out=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@"
}

total() { sed -n 's/^totals: //p; s/^summary: //p' "$1" | head -1; }

# start_server NAME CMD...: runs CMD under callgrind, its stdout on fd $srv_fd, port in $srv_port.
start_server() {
    local name=$1 fifo=$tmp/fifo line
    shift
    mkfifo "$fifo"
    valgrind --tool=callgrind --callgrind-out-file="$tmp/$name.out" "$@" >"$fifo" \
        2>>"$tmp/err.log" </dev/null &
    srv_pid=$!
    exec {srv_fd}<"$fifo"
    rm -f "$fifo"
    IFS= read -r -t 120 -u "$srv_fd" line || { echo "sc_instr: $name did not start" >&2; exit 1; }
    srv_port=${line#port }
}

# thr SIZE SC N: the instructions of the source and of the sink for N messages.
thr() {
    local size=$1 on=$2 n=$3 line
    start_server "rx-$size-$on-$n" "$bin/bench_channel" sink
    cg "$tmp/tx-$size-$on-$n.out" "$bin/bench_channel" source "port=$srv_port" "size=$size" \
        "sc=$on" "n=$n" >/dev/null 2>>"$tmp/err.log"
    IFS= read -r -t 600 -u "$srv_fd" line || { echo "sc_instr: no result" >&2; exit 1; }
    wait "$srv_pid" || true
    exec {srv_fd}<&-
    echo "$(total "$tmp/tx-$size-$on-$n.out") $(total "$tmp/rx-$size-$on-$n.out")"
}

# hs N: the instructions of the client and of the server for N handshakes.
hs() {
    local n=$1
    start_server "hs-server-$n" "$bin/bench_channel" hs-server
    cg "$tmp/hs-client-$n.out" "$bin/bench_channel" hs-client "port=$srv_port" "n=$n" \
        >/dev/null 2>>"$tmp/err.log"
    kill -TERM "$srv_pid"
    wait "$srv_pid" || true
    exec {srv_fd}<&-
    echo "$(total "$tmp/hs-client-$n.out") $(total "$tmp/hs-server-$n.out")"
}

per() { # A B DELTA -> (B - A) / DELTA
    awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { printf "%.0f", (b - a) / d }'
}

for size in $sizes; do
    if [ "$size" -ge 16384 ]; then n1=100 n2=600; else n1=1000 n2=6000; fi
    for on in $modes; do
        read -r t1 r1 <<<"$(thr "$size" "$on" "$n1")"
        read -r t2 r2 <<<"$(thr "$size" "$on" "$n2")"
        echo "sc=$on size=$size tx_instr=$(per "$t1" "$t2" $((n2 - n1))) rx_instr=$(per "$r1" "$r2" $((n2 - n1)))"
    done
done
if [ "${HS:-1}" = 1 ]; then
    read -r c1 s1 <<<"$(hs 10)"
    read -r c2 s2 <<<"$(hs 60)"
    echo "handshake client_instr=$(per "$c1" "$c2" 50) server_instr=$(per "$s1" "$s2" 50)"
fi
