#!/usr/bin/env bash
# Secure channels in the ockam command, measured against what people would otherwise use.
#   1. `secure-channel create` + the first message through it (two CLI runs, end to end):
#      median of BENCH_SC_RUNS runs; target <= 30 ms.
#   2. Bulk transfer of BENCH_SC_MIB MiB (one TCP stream, source -> sink on loopback) over
#      four paths, in the same run: direct; a plain portal (inlet node -> outlet node); the
#      portal through a secure channel (inlet route /node/s/secure/api/service/outlet); and an
#      SSH tunnel (`ssh -L` to a local sshd, cipher aes256-gcm@openssh.com). Targets: the
#      encrypted portal >= 1.0x ssh -L. The plain portal is also compared with a chain of two
#      `socat` relays (client -> socat -> socat -> server: the same process layout as
#      inlet node -> outlet node); target >= 1.0x.
# Usage: bench/secure.sh [BUILD_DIR]   (default build/release). Prints a Markdown table.
set -euo pipefail

build=${1:-build/release}
runs=${BENCH_SC_RUNS:-30}
mib=${BENCH_SC_MIB:-1024}
ockam=$(realpath "$build/ockam")
[ -x "$ockam" ] || { echo "bench/secure.sh: no ockam binary in $build" >&2; exit 64; }

tmp=$(mktemp -d)
OCKAM_HOME=$tmp/home
export OCKAM_HOME NO_COLOR=1
pids=()
cleanup() {
    "$ockam" node delete --all -y >/dev/null 2>&1 || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_listening() {
    local i
    for i in $(seq 1 200); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench/secure.sh: nothing listens on $1" >&2
    return 1
}

# ---- 1. secure-channel create + first message ------------------------------------------------

"$ockam" node create n1 >/dev/null
"$ockam" node create n2 >/dev/null
times=()
for i in $(seq 1 "$runs"); do
    t0=$(now_ns)
    enc=$("$ockam" secure-channel create --from n1 --to /node/n2/service/api)
    reply=$("$ockam" message send hi --from n1 --to "$enc/service/echo")
    t1=$(now_ns)
    [ "$reply" = hi ] || { echo "bench/secure.sh: wrong reply '$reply'" >&2; exit 1; }
    "$ockam" secure-channel delete "$enc" --at n1 -y >/dev/null
    times+=($(( (t1 - t0) / 1000 )))
done
median_us=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
"$ockam" node delete --all -y >/dev/null

# ---- 2. bulk transfer ------------------------------------------------------------------------

# A source that sends $mib MiB to each client, and a sink that reads to EOF and prints MiB/s.
cat >"$tmp/source.py" <<'PY'
import socket, sys
port, mib = int(sys.argv[1]), int(sys.argv[2])
buf = b"\x5a" * (1 << 20)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
while True:
    c, _ = s.accept()
    try:
        for _ in range(mib):
            c.sendall(buf)
    except OSError:
        pass
    c.close()
PY
cat >"$tmp/sink.py" <<'PY'
import socket, sys, time
port, mib = int(sys.argv[1]), int(sys.argv[2])
c = socket.create_connection(("127.0.0.1", port))
buf = bytearray(1 << 20)
n, t0 = 0, time.monotonic()
while True:
    r = c.recv_into(buf)
    if not r:
        break
    n += r
dt = time.monotonic() - t0
if n != mib << 20:
    sys.exit("short transfer: %d bytes" % n)
print("%.0f" % (n / (1 << 20) / dt))
PY
src_port=$(free_port)
python3 "$tmp/source.py" "$src_port" "$mib" &
pids+=($!)
wait_listening "$src_port"

measure() { # port -> MiB/s (best of 3)
    local best=0 r i
    for i in 1 2 3; do
        r=$(python3 "$tmp/sink.py" "$1" "$mib")
        [ "$r" -gt "$best" ] && best=$r
    done
    echo "$best"
}

direct=$(measure "$src_port")

"$ockam" node create s >/dev/null
"$ockam" node create c >/dev/null
"$ockam" tcp-outlet create --at s --to "127.0.0.1:$src_port" >/dev/null
plain_in=$("$ockam" tcp-inlet create --at c --from 127.0.0.1:0 --alias plain --to /node/s/service/outlet)
sec_in=$("$ockam" tcp-inlet create --at c --from 127.0.0.1:0 --alias sec --to /node/s/secure/api/service/outlet)
plain=$(measure "${plain_in##*:}")
secure=$(measure "${sec_in##*:}")

# Two socat relays in a chain, each with a 128 KiB buffer (socat's default 8 KiB would make
# the baseline needlessly slow).
socat_rate="n/a"
if command -v socat >/dev/null; then
    s2_port=$(free_port)
    socat -b 131072 "TCP-LISTEN:$s2_port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$src_port" 2>/dev/null &
    pids+=($!)
    wait_listening "$s2_port"
    s1_port=$(free_port)
    socat -b 131072 "TCP-LISTEN:$s1_port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$s2_port" 2>/dev/null &
    pids+=($!)
    wait_listening "$s1_port"
    socat_rate=$(measure "$s1_port")
fi

ssh_rate="n/a"
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null; then
    mkdir -p /run/sshd 2>/dev/null || true
    ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
    ssh-keygen -q -t ed25519 -N '' -f "$tmp/userkey"
    cp "$tmp/userkey.pub" "$tmp/authorized_keys"
    sshd_port=$(free_port)
    cat >"$tmp/sshd_config" <<CFG
Port $sshd_port
ListenAddress 127.0.0.1
HostKey $tmp/hostkey
AuthorizedKeysFile $tmp/authorized_keys
PidFile $tmp/sshd.pid
StrictModes no
PermitRootLogin yes
UsePAM no
Ciphers aes256-gcm@openssh.com
AllowTcpForwarding yes
CFG
    /usr/sbin/sshd -D -e -f "$tmp/sshd_config" 2>"$tmp/sshd.log" &
    pids+=($!)
    wait_listening "$sshd_port"
    tun_port=$(free_port)
    ssh -N -c aes256-gcm@openssh.com -i "$tmp/userkey" -p "$sshd_port" \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -L "127.0.0.1:$tun_port:127.0.0.1:$src_port" "$(id -un)@127.0.0.1" &
    pids+=($!)
    wait_listening "$tun_port"
    ssh_rate=$(measure "$tun_port")
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "n/a" || b == 0) print "n/a"; else printf "%.2fx", a / b }'; }

printf '\n| measurement | value | target |\n|---|---|---|\n'
printf '| secure-channel create + first message (median of %d) | %.1f ms | <= 30 ms |\n' \
    "$runs" "$(awk -v u="$median_us" 'BEGIN { print u / 1000 }')"
printf '| bulk %d MiB direct | %s MiB/s | |\n' "$mib" "$direct"
printf '| bulk through a plain portal | %s MiB/s (%s of direct) | |\n' "$plain" "$(ratio "$plain" "$direct")"
printf '| bulk through two socat relays in a chain | %s MiB/s | |\n' "$socat_rate"
printf '| plain portal vs the two-socat chain | %s | >= 1.0x |\n' "$(ratio "$plain" "$socat_rate")"
printf '| bulk through ssh -L (aes256-gcm@openssh.com) | %s MiB/s | |\n' "$ssh_rate"
printf '| bulk through the portal in a secure channel | %s MiB/s (%s of ssh -L) | >= 1.0x ssh -L |\n' \
    "$secure" "$(ratio "$secure" "$ssh_rate")"
