#!/usr/bin/env bash
# BLE benchmark (scripts/bench.sh scenario "ble", or alone): libockam over BlueZ's emulated
# LE controllers (btvirt -s, with the test shim) against a raw HCI ACL probe on the same
# emulator, and round trips against a model of Ockam's own BLE framing.
#
# Usage: bench/ble.sh [BUILD_DIR]   (default build/release; needs bench/bench_ble and the
#        btvirt shim libockam_btvirt_shim.so from tests/ or bench/, or BTVIRT_SHIM=path)
# Output: TSV lines "impl param metric value" on stdout (one per run), and the report
# $BENCH_OUT/ble.md (medians). Exit 69 (skipped) without btvirt, the role binary or the shim.
#
# What is measured: payload MiB/s of one link (messages of 1 KiB, 16 KiB, 64 KiB, sent with
# the link's queue kept under 512 KiB, timed from the first message to the sink's answer to
# an end marker), the raw rate of full 192-byte ACL packets between two raw HCI hosts that
# respect the emulator's one-packet buffer (the most any host can get from it), and request/
# reply round trips through echo. Ockam's BLE transport cannot run here (it needs BlueZ over
# D-Bus and a BlueNRG board); its latency is MODELLED from its code's rules: an 8-byte length
# write, then the encoded message in 18-byte writes, with 100 ms sleeps between writes
# (radio time ignored, which favours it).
set -euo pipefail

build=${1:-build/release}
bin=$build/bench/bench_ble
shim=${BTVIRT_SHIM:-}
for s in "$build/tests/libockam_btvirt_shim.so" "$build/bench/libockam_btvirt_shim.so"; do
    [ -n "$shim" ] || { [ -e "$s" ] && shim=$s; } || true
done
runs=${BENCH_RUNS:-3}
# Every process on CPU 0 by default: the emulator, the sender and the receiver then take
# turns on one CPU, so the numbers measure the hosts' work per packet instead of where the
# scheduler happens to place three processes that wake each other 50 000 times a second
# (unpinned runs on this 2-CPU machine vary by 3x from run to run). BLE_PIN="" unpins.
pin=(${BLE_PIN-taskset -c 0})
out=${BENCH_OUT:-bench/results}
timeout_s=60

command -v btvirt >/dev/null || { echo "ble: btvirt (bluez-test-tools) is not installed" >&2; exit 69; }
[ -x "$bin" ] || { echo "ble: $bin is missing" >&2; exit 69; }
[ -n "$shim" ] || { echo "ble: the btvirt shim is missing" >&2; exit 69; }

dir=$(mktemp -d /tmp/ockam-btvirt-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

mkfifo "$dir/ready"
(trap '' PIPE; BTVIRT_DIR=$dir BTVIRT_READY_FD=7 LD_PRELOAD=$shim exec "${pin[@]}" btvirt -s \
    7>"$dir/ready" >/dev/null 2>&1) &
pids+=("$!")
read -r -t 10 -n 1 c <"$dir/ready"
[ "$c" = L ] || { echo "ble: btvirt did not start" >&2; exit 1; }
ctl="unix:$dir/bt-server-le"

# start_sink ROLE NAME: starts a sink role, waits for "ready ADDR", sets sink_pid and addr.
start_sink() {
    local fifo=$dir/sink.out line
    rm -f "$fifo"
    mkfifo "$fifo"
    "${pin[@]}" "$bin" "$1" "name=$2" "controller=$ctl" >"$fifo" 2>/dev/null &
    sink_pid=$!
    pids+=("$sink_pid")
    exec {sink_fd}<"$fifo"
    IFS= read -r -t "$timeout_s" -u "$sink_fd" line || { echo "ble: $1 did not start" >&2; exit 1; }
    addr=${line#ready }
}

stop_sink() {
    kill "$sink_pid" 2>/dev/null || true
    wait "$sink_pid" 2>/dev/null || true
    exec {sink_fd}<&-
}

field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

result() { # role args... -> the result line without "result "
    local line
    line=$(timeout "$timeout_s" "${pin[@]}" "$bin" "$@" "controller=$ctl" | grep '^result ') || return 1
    printf '%s' "${line#result }"
}

tsv=$dir/ble.tsv
: >"$tsv"
emit() { printf '%s\t%s\t%s\t%s\n' "$@" | tee -a "$tsv"; }

for ((r = 1; r <= runs; r++)); do
    start_sink raw-sink "raw$r"
    res=$(result raw-thr "addr=$addr" mib=16) || { echo "ble: raw-thr failed" >&2; exit 1; }
    emit raw_acl 192 mib_s "$(field "$res" mib_s)"
    stop_sink

    start_sink sink "osink$r"
    for size in 1024 16384 65536; do
        res=$(result thr "name=osink$r" "size=$size" mib=16) || { echo "ble: thr failed" >&2; exit 1; }
        emit ockam "$size" mib_s "$(field "$res" mib_s)"
    done
    for size in 16 1000; do
        res=$(result rtt "name=osink$r" "size=$size" secs=1) || { echo "ble: rtt failed" >&2; exit 1; }
        emit ockam "$size" rtt_p50_us "$(field "$res" p50_us)"
        emit ockam "$size" rtt_p99_us "$(field "$res" p99_us)"
    done
    stop_sink
done

# ---- report ------------------------------------------------------------------------------
median() { # impl param metric
    awk -F '\t' -v i="$1" -v p="$2" -v m="$3" '$1 == i && $2 == p && $3 == m { print $4 }' "$tsv" \
        | sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}
# Ockam's BLE framing: the TransportMessage of [0#echo] / [0#app] / a BARE byte string of
# `size` bytes is 1 + 6 + 5 + varint + varint + size bytes; an 8-byte length write, then
# ceil(len / 18) writes, 100 ms apart: one way >= (writes - 1) x 100 ms.
ockam_model_ms() {
    local size=$1 inner outer len writes
    inner=$((size < 128 ? 1 : 2))
    outer=$(((size + inner) < 128 ? 1 : 2))
    len=$((1 + 6 + 5 + outer + inner + size))
    writes=$((1 + (len + 17) / 18))
    echo $(((writes - 1) * 100 * 2))
}
raw=$(median raw_acl 192 mib_s)
mkdir -p "$out"
{
    echo "# BLE on BlueZ's emulator (btvirt $(dpkg-query -W -f '${Version}' bluez-test-tools 2>/dev/null || echo '?'))"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), medians of $runs runs, $(nproc) CPUs, ${pin[*]:-unpinned}."
    echo
    echo "| link | payload | MiB/s | vs raw ACL |"
    echo "|---|---|---|---|"
    echo "| raw HCI ACL probe (192 B packets, 1 in flight) | - | $raw | 1.00x |"
    for size in 1024 16384 65536; do
        m=$(median ockam "$size" mib_s)
        echo "| libockam BLE link | $size B messages | $m | $(awk -v a="$m" -v b="$raw" 'BEGIN { printf "%.2fx", a / b }') |"
    done
    echo
    echo "Target: >= 0.80x of the raw ACL rate."
    echo
    echo "| round trip through echo | p50 | p99 | Ockam's BLE framing (model, >=) | ratio |"
    echo "|---|---|---|---|---|"
    for size in 16 1000; do
        p50=$(median ockam "$size" rtt_p50_us)
        p99=$(median ockam "$size" rtt_p99_us)
        model=$(ockam_model_ms "$size")
        echo "| $size B | $p50 us | $p99 us | $model ms | $(awk -v m="$model" -v p="$p50" 'BEGIN { printf "%.0fx faster", m * 1000 / p }') |"
    done
    echo
    echo "The model: Ockam's BLE transport writes an 8-byte length, then the encoded message in"
    echo "18-byte writes with a 100 ms sleep between writes, each way (its messages are capped at"
    echo "1 KiB). Radio time is not counted, so the real figure would be higher still."
} >"$out/ble.md"
echo "ble: wrote $out/ble.md" >&2
