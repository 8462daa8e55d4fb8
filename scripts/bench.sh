#!/usr/bin/env bash
# The benchmark suite (`make bench`): libockam against plain TCP, ZeroMQ and nng, measured side
# by side in the same run, every scenario twice (all processes pinned to CPU 0, then
# unpinned). Writes bench/results/latest.md (medians of BENCH_RUNS runs and ratios to the
# baselines of the same run) and bench/results/latest.png (throughput by payload size).
#
# Usage: scripts/bench.sh [BUILD_DIR]        (default build/release, built by the Makefile)
# Environment:
#   BENCH_RUNS=3        runs per measurement (the median is reported)
#   BENCH_SECS=0.5      seconds each throughput sender sends
#   BENCH_LAT_SECS=0.3  seconds of request/reply per latency run
#   BENCH_ONLY="thr lat relay portal mem cli ble sc secure"   scenarios to run (default: all)
#   BENCH_OUT=bench/results                     where latest.md / latest.png go
#
# Every role is a separate process (bench/bench_*.c). Listening roles print "port N" when
# ready and the runner starts the next role only then; receivers print one "result" line.
# No sleeps: every wait is a read on a pipe (with a timeout so a broken run cannot hang).
set -euo pipefail

build=${1:-build/release}
bin=$build/bench
runs=${BENCH_RUNS:-3}
secs=${BENCH_SECS:-0.5}
lat_secs=${BENCH_LAT_SECS:-0.3}
only=${BENCH_ONLY:-thr lat relay portal mem cli ble sc secure}
out=${BENCH_OUT:-bench/results}
read_timeout=60

# The baselines (ZeroMQ, nng) and the chart are needed only by the scenarios that use them.
need=(bench_ockam bench_plain bench_workers_mem bench_channel)
case " $only " in *" thr "* | *" lat "* | *" relay "*) need+=(bench_zmq bench_nng) ;; esac
for b in "${need[@]}"; do
    [ -x "$bin/$b" ] || {
        echo "bench: $bin/$b is missing (make bench builds it; ZeroMQ and nng come from" \
            "scripts/install-deps.sh bench)" >&2
        exit 69
    }
done
if [[ " $only " == *" thr "* ]]; then
    command -v gnuplot >/dev/null || { echo "bench: gnuplot is missing" >&2; exit 69; }
fi

tmp=$(mktemp -d)
raw=$tmp/raw.tsv # scenario pin impl param metric value
: >"$raw"
errlog=$tmp/stderr.log
: >"$errlog"
pids=()
fds=()
failures=0

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

log() { printf '%s\n' "$*" >&2; }

# ---- process plumbing ------------------------------------------------------------------

pin=() # (taskset -c 0) while the pinned pass runs

# spawn NAME CMD...: start CMD in the background (pinned as the pass requires); its stdout
# becomes readable on fd ${NAME}_fd, its stdin is /dev/null. Sets ${NAME}_pid.
spawn() {
    local name=$1 fifo fd
    shift
    fifo=$tmp/$name.out
    rm -f "$fifo"
    mkfifo "$fifo"
    "${pin[@]}" "$@" >"$fifo" 2>>"$errlog" </dev/null &
    local pid=$!
    exec {fd}<"$fifo"
    rm -f "$fifo"
    pids+=("$pid")
    fds+=("$fd")
    printf -v "${name}_pid" '%s' "$pid"
    printf -v "${name}_fd" '%s' "$fd"
}

# spawn_io NAME CMD...: like spawn, and ${NAME}_in is a fd writing to its stdin.
spawn_io() {
    local name=$1 fifo fin fd wfd
    shift
    fifo=$tmp/$name.out
    fin=$tmp/$name.in
    rm -f "$fifo" "$fin"
    mkfifo "$fifo" "$fin"
    "${pin[@]}" "$@" >"$fifo" 2>>"$errlog" <"$fin" &
    local pid=$!
    # The child opens its stdout first, then its stdin: open them in the same order here.
    exec {fd}<"$fifo"
    exec {wfd}>"$fin"
    rm -f "$fifo" "$fin"
    pids+=("$pid")
    fds+=("$fd" "$wfd")
    printf -v "${name}_pid" '%s' "$pid"
    printf -v "${name}_fd" '%s' "$fd"
    printf -v "${name}_in" '%s' "$wfd"
}

# read_port NAME: the "port N" line of a listening role.
read_port() {
    local fd_var=${1}_fd line
    IFS= read -r -t "$read_timeout" -u "${!fd_var}" line || return 1
    [[ $line == port\ * ]] || return 1
    printf '%s' "${line#port }"
}

# read_result NAME: its "result ..." line, without the word.
read_result() {
    local fd_var=${1}_fd line
    IFS= read -r -t "$read_timeout" -u "${!fd_var}" line || return 1
    [[ $line == result\ * ]] || return 1
    printf '%s' "${line#result }"
}

# Field of a "k=v k=v" result.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# End every process of a run and close their pipes.
finish_run() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
    local f
    for f in "${fds[@]}"; do exec {f}>&-; done
    fds=()
}

record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$raw"; }

fail() {
    failures=$((failures + 1))
    log "  FAILED: $*"
    finish_run
}

# ---- roles of each implementation -------------------------------------------------------

# thr_roles IMPL: receiver, sender, relay commands (relay empty when the pattern has none).
thr_roles() {
    case $1 in
        ockam) recv=("$bin/bench_ockam" sink) send=("$bin/bench_ockam" source) relay=("$bin/bench_ockam" hop) ;;
        plain) recv=("$bin/bench_plain" sink) send=("$bin/bench_plain" source) relay=("$bin/bench_plain" relay) ;;
        zmq) recv=("$bin/bench_zmq" pull) send=("$bin/bench_zmq" push) relay=("$bin/bench_zmq" stream-proxy) ;;
        nng) recv=("$bin/bench_nng" pull) send=("$bin/bench_nng" push) relay=("$bin/bench_nng" stream-device) ;;
        nngpair) recv=("$bin/bench_nng" pull proto=pair) send=("$bin/bench_nng" push proto=pair) relay=() ;;
    esac
}

lat_roles() {
    case $1 in
        ockam) server=("$bin/bench_ockam" echo) client=("$bin/bench_ockam" ping) relay=("$bin/bench_ockam" hop) ;;
        plain) server=("$bin/bench_plain" echo) client=("$bin/bench_plain" ping) relay=("$bin/bench_plain" relay) ;;
        zmq) server=("$bin/bench_zmq" rep) client=("$bin/bench_zmq" req) relay=("$bin/bench_zmq" broker) ;;
        nng) server=("$bin/bench_nng" rep) client=("$bin/bench_nng" req) relay=("$bin/bench_nng" reqrep-device) ;;
    esac
}

# Arguments that point a client at the first hop: libockam names the relay and the final
# listener (its route is [1#relay, hop, 1#final, target]); the others only connect to the
# relay, which forwards to the port it was given.
target_args() { # impl final_port relay_port(or empty)
    if [ -z "$3" ]; then
        echo "port=$2"
    elif [ "$1" = ockam ]; then
        echo "via=$3 port=$2"
    else
        echo "port=$3"
    fi
}

# run_thr SCEN IMPL SIZE RELAY(0|1)
run_thr() {
    local scen=$1 impl=$2 size=$3 via_relay=$4 port mport="" res
    thr_roles "$impl"
    spawn R "${recv[@]}"
    port=$(read_port R) || { fail "$impl receiver did not start"; return; }
    if [ "$via_relay" = 1 ]; then
        spawn M "${relay[@]}" "to=$port"
        mport=$(read_port M) || { fail "$impl relay did not start"; return; }
    fi
    # shellcheck disable=SC2046
    "${pin[@]}" "${send[@]}" $(target_args "$impl" "$port" "$mport") "size=$size" "secs=$secs" \
        >/dev/null 2>>"$errlog" </dev/null &
    pids+=("$!")
    res=$(read_result R) || { fail "$scen $impl $size: no result"; return; }
    finish_run
    record "$scen" "$pass" "$impl" "$size" msg_s "$(field "$res" msg_s)"
    record "$scen" "$pass" "$impl" "$size" mib_s "$(field "$res" mib_s)"
}

# run_lat SCEN IMPL SIZE RELAY(0|1)
run_lat() {
    local scen=$1 impl=$2 size=$3 via_relay=$4 port mport="" res line
    lat_roles "$impl"
    spawn R "${server[@]}"
    port=$(read_port R) || { fail "$impl server did not start"; return; }
    if [ "$via_relay" = 1 ]; then
        spawn M "${relay[@]}" "to=$port"
        mport=$(read_port M) || { fail "$impl relay did not start"; return; }
    fi
    # shellcheck disable=SC2046
    spawn C "${client[@]}" $(target_args "$impl" "$port" "$mport") "size=$size" "secs=$lat_secs"
    res=$(read_result C) || { fail "$scen $impl $size: no result"; return; }
    finish_run
    record "$scen" "$pass" "$impl" "$size" p50 "$(field "$res" p50_us)"
    record "$scen" "$pass" "$impl" "$size" p99 "$(field "$res" p99_us)"
}

# ---- scenarios ---------------------------------------------------------------------------

thr_sizes=(16 256 4096 65536)
thr_impls=(ockam plain zmq nng nngpair)
lat_sizes=(16 4096)
lat_impls=(ockam plain zmq nng)
relay_thr_sizes=(256 65536)
relay_impls=(ockam plain zmq nng)

# Runs are interleaved (run 1 of every implementation, then run 2...) so that a burst of
# load from elsewhere on the machine hits every implementation alike.
scenario_thr() {
    local r s i
    for ((r = 1; r <= runs; r++)); do
        for s in "${thr_sizes[@]}"; do
            for i in "${thr_impls[@]}"; do run_thr thr "$i" "$s" 0; done
        done
    done
}

scenario_lat() {
    local r s i
    for ((r = 1; r <= runs; r++)); do
        for s in "${lat_sizes[@]}"; do
            for i in "${lat_impls[@]}"; do run_lat lat "$i" "$s" 0; done
        done
    done
}

scenario_relay() {
    local r s i
    for ((r = 1; r <= runs; r++)); do
        for s in "${relay_thr_sizes[@]}"; do
            for i in "${relay_impls[@]}"; do run_thr rthr "$i" "$s" 1; done
        done
        for s in "${lat_sizes[@]}"; do
            for i in "${relay_impls[@]}"; do
                run_lat rlat "$i" "$s" 1
                run_lat dlat "$i" "$s" 0 # the direct latency next to it, for "added"
            done
        done
    done
}

# ---- scenario 4: TCP portal bulk transfer -----------------------------------------------
# PORTAL SLOT: runs when the portal exists (include/ockam/portal.h, built into
# $bin/bench_portal by bench/suite.cmake). A byte stream of portal_mib MiB goes from
# bench_plain bulk-source to bench_plain bulk-sink: directly, through socat, and through an
# Ockam TCP portal (inlet node -> TCP -> outlet node).
portal_mib=256

run_bulk() { # impl
    local impl=$1 port mport iport res
    spawn R "$bin/bench_plain" bulk-sink
    port=$(read_port R) || { fail "bulk-sink did not start"; return; }
    case $impl in
        direct) iport=$port ;;
        socat)
            # socat prints no readiness line: bench_plain listens, accepts the connection
            # and then execs socat to relay it.
            spawn M "$bin/bench_plain" socat "to=$port"
            iport=$(read_port M) || { fail "socat did not start"; return; }
            ;;
        ockam)
            spawn M "$bin/bench_portal" outlet "to=$port"
            mport=$(read_port M) || { fail "outlet node did not start"; return; }
            spawn I "$bin/bench_portal" inlet "via=$mport"
            iport=$(read_port I) || { fail "inlet node did not start"; return; }
            ;;
    esac
    "${pin[@]}" "$bin/bench_plain" bulk-source "port=$iport" "mib=$portal_mib" \
        >/dev/null 2>>"$errlog" </dev/null &
    pids+=("$!")
    res=$(read_result R) || { fail "portal $impl: no result"; return; }
    finish_run
    record portal "$pass" "$impl" "$portal_mib" mib_s "$(field "$res" mib_s)"
}

scenario_portal() {
    if [ ! -x "$bin/bench_portal" ]; then
        log "  portal: not built yet (no include/ockam/portal.h); skipped"
        record portal "$pass" none 0 skipped 1
        return
    fi
    local r i
    for ((r = 1; r <= runs; r++)); do
        for i in direct socat ockam; do run_bulk "$i"; done
    done
}

# ---- scenario 5: memory -----------------------------------------------------------------
conns=10000

scenario_mem() {
    local r line res port
    for ((r = 1; r <= runs; r++)); do
        line=$("${pin[@]}" "$bin/bench_workers_mem" 1000000 2>>"$errlog") || { fail "workers"; continue; }
        record mem "$pass" workers 1000000 total_mib "$(sed -n 's/.*RSS total \([0-9.]*\) MiB.*/\1/p' <<<"$line")"
        record mem "$pass" workers 1000000 delta_mib "$(sed -n 's/.*RSS delta \([0-9.]*\) MiB.*/\1/p' <<<"$line")"
        record mem "$pass" workers 1000000 per_item "$(sed -n 's/.* \([0-9]*\) bytes per worker.*/\1/p' <<<"$line")"

        spawn_io S "$bin/bench_ockam" conns-server "n=$conns"
        port=$(read_port S) || { fail "conns-server did not start"; continue; }
        spawn_io C "$bin/bench_ockam" conns-client "port=$port" "n=$conns"
        res=$(read_result C) || { fail "conns-client: $(tail -1 "$errlog")"; continue; }
        record mem "$pass" conns_out "$conns" total_mib "$(field "$res" rss_mib)"
        record mem "$pass" conns_out "$conns" delta_mib "$(field "$res" delta_mib)"
        record mem "$pass" conns_out "$conns" per_item "$(field "$res" bytes_per_conn)"
        # shellcheck disable=SC2154 # S_in is set by spawn_io
        echo measure >&"$S_in"
        res=$(read_result S) || { fail "conns-server: no result"; continue; }
        record mem "$pass" conns_in "$conns" total_mib "$(field "$res" rss_mib)"
        record mem "$pass" conns_in "$conns" delta_mib "$(field "$res" delta_mib)"
        record mem "$pass" conns_in "$conns" per_item "$(field "$res" bytes_per_conn)"
        finish_run
    done
}

# ---- scenario 6: CLI (bench/cli.sh, hyperfine) ------------------------------------------
scenario_cli() {
    local outf=$tmp/cli.$pass.txt
    if ! "${pin[@]}" bench/cli.sh "$build" >"$outf" 2>>"$errlog"; then
        fail "bench/cli.sh"
        return
    fi
    # Lines: "<label padded to 48> <median> ms <target> ms  <verdict>"
    local label rest
    while IFS= read -r line; do
        label=$(sed 's/  *$//' <<<"${line:0:48}")
        rest=${line:48}
        case $label in
            "ockam node create"*) key=create ;;
            "ockam message send"*) key=send ;;
            "ockam node delete"*) key=delete ;;
            *) continue ;;
        esac
        record cli "$pass" "$key" 0 median_ms "$(awk '{print $1}' <<<"$rest")"
        record cli "$pass" "$key" 0 target_ms "$(awk '{print $3}' <<<"$rest")"
    done <"$outf"
}

# ---- scenario 7: BLE on BlueZ's emulator (bench/ble.sh) ----------------------------------
# Its own report (bench/results/ble.md: libockam vs a raw HCI ACL probe, and round trips vs
# a model of Ockam's BLE framing); the rows also go into latest.tsv as scenario "ble".
scenario_ble() {
    local dir=$tmp/ble-$pass rc=0
    mkdir -p "$dir"
    BLE_PIN="${pin[*]}" BENCH_RUNS=$runs BENCH_OUT=$dir bench/ble.sh "$build" >"$dir/rows.tsv" \
        2>>"$errlog" || rc=$?
    if [ "$rc" = 69 ]; then
        log "  ble: btvirt, bench_ble or the shim is missing; skipped"
        record ble "$pass" none 0 skipped 1
        return
    fi
    [ "$rc" = 0 ] || { fail "bench/ble.sh"; return; }
    local impl param metric value
    while IFS=$'\t' read -r impl param metric value; do
        record ble "$pass" "$impl" "$param" "$metric" "$value"
    done <"$dir/rows.tsv"
    { echo "## $pass"; echo; sed 1d "$dir/ble.md"; echo; } >>"$tmp/ble.md"
}

# ---- scenario 8: secure channels (bench/bench_channel.c) --------------------------------
# Throughput through a channel over one TCP connection against the same route without one
# (same binary, same throttle), the cipher's own speed (`openssl speed`) in the same pass,
# sequential handshakes over one connection, and the memory of idle channels.
sc_sizes=(256 65536)
sc_handshakes=500
sc_idle=10000

run_sc_thr() { # size on(0|1)
    local size=$1 on=$2 port res impl=route
    [ "$on" = 1 ] && impl=channel
    spawn R "$bin/bench_channel" sink
    port=$(read_port R) || { fail "channel sink did not start"; return; }
    "${pin[@]}" "$bin/bench_channel" source "port=$port" "size=$size" "secs=$secs" "sc=$on" \
        >/dev/null 2>>"$errlog" </dev/null &
    pids+=("$!")
    res=$(read_result R) || { fail "sc $impl $size: no result"; return; }
    finish_run
    record sc "$pass" "$impl" "$size" msg_s "$(field "$res" msg_s)"
    record sc "$pass" "$impl" "$size" mib_s "$(field "$res" mib_s)"
}

run_sc_cipher() {
    # "aes-256-gcm  4400000.00k": thousands of bytes per second at 64 KiB.
    local line
    line=$("${pin[@]}" openssl speed -evp aes-256-gcm -bytes 65536 -seconds 1 2>/dev/null \
        | tail -1) || { fail "openssl speed"; return; }
    record sc "$pass" openssl 65536 mib_s "$(awk '{v = $NF; sub(/k$/, "", v); printf "%.1f", v * 1000 / 1048576}' <<<"$line")"
}

run_sc_handshakes() {
    local port res
    spawn R "$bin/bench_channel" hs-server
    port=$(read_port R) || { fail "hs-server did not start"; return; }
    spawn C "$bin/bench_channel" hs-client "port=$port" "n=$sc_handshakes"
    res=$(read_result C) || { fail "hs-client: no result"; return; }
    finish_run
    record sc "$pass" handshake "$sc_handshakes" hs_s "$(field "$res" hs_s)"
    record sc "$pass" handshake "$sc_handshakes" p50 "$(field "$res" p50_us)"
    record sc "$pass" handshake "$sc_handshakes" p99 "$(field "$res" p99_us)"
}

run_sc_idle() {
    local res
    res=$("${pin[@]}" "$bin/bench_channel" idle "n=$sc_idle" 2>>"$errlog" | sed -n 's/^result //p')
    [ -n "$res" ] || { fail "idle channels"; return; }
    record sc "$pass" idle "$sc_idle" delta_mib "$(field "$res" delta_mib)"
    record sc "$pass" idle "$sc_idle" per_item "$(field "$res" bytes_per_channel)"
}

scenario_sc() {
    local r s
    for ((r = 1; r <= runs; r++)); do
        for s in "${sc_sizes[@]}"; do
            run_sc_thr "$s" 0
            run_sc_thr "$s" 1
        done
        run_sc_cipher
        run_sc_handshakes
    done
    # Memory does not depend on the CPU placement: measured once.
    if [ "$pass" = pinned ]; then run_sc_idle; fi
}

# ---- scenario 9: secure channels in the ockam command (bench/secure.sh) ---------------------
# secure-channel create + first message, and the portal through a secure channel against
# ssh -L; once, unpinned (the nodes, sshd and ssh are separate processes like in real use).
scenario_secure() {
    [ "$pass" = unpinned ] || return 0
    bench/secure.sh "$build" >"$tmp/secure.md" 2>>"$errlog" || fail "bench/secure.sh"
}

# ---- run ----------------------------------------------------------------------------------

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
for pass in pinned unpinned; do
    if [ "$pass" = pinned ]; then pin=(taskset -c 0); else pin=(); fi
    for scen in thr lat relay portal mem cli ble sc secure; do
        [[ " $only " == *" $scen "* ]] || continue
        log "bench: $scen ($pass)"
        t0=$(date +%s)
        "scenario_$scen"
        log "  ${scen}: $(($(date +%s) - t0)) s"
    done
done
elapsed=$(($(date +%s) - started))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$out"
cp "$raw" "$out/latest.tsv"
[ -s "$tmp/ble.md" ] && { echo "# BLE on BlueZ's emulator (bench/ble.sh)"; echo; cat "$tmp/ble.md"; } >"$out/ble.md"
BENCH_ELAPSED=$elapsed BENCH_LOAD="$load_before -> $load_after" BENCH_RUNS=$runs \
    BENCH_FAILURES=$failures BENCH_SECS=$secs BENCH_LAT_SECS=$lat_secs \
    BENCH_PORTAL_MIB=$portal_mib BENCH_CONNS=$conns \
    scripts/bench-report.sh "$out/latest.tsv" "$out"
if [ -s "$tmp/secure.md" ]; then
    {
        printf '\n## Secure channels in the ockam command (bench/secure.sh)\n'
        cat "$tmp/secure.md"
    } >>"$out/latest.md"
fi
if [ "$failures" -gt 0 ]; then
    log "bench: $failures runs failed; stderr of the roles:"
    tail -20 "$errlog" >&2
fi
log "bench: wrote $out/latest.md and $out/latest.png in ${elapsed} s"
