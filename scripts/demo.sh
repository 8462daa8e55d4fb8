#!/usr/bin/env bash
# The demo: local routing through three hops inside one node, then the `ockam` command's seed
# sequence with real background nodes (free ports instead of 7000 and 8000, state in a
# temporary OCKAM_HOME, every node deleted at the end), then one message through a secure
# channel over TCP -> relay -> TCP and over UDP -> TCP, with what the middle node forwarded
# (recorded by a TCP proxy in front of it, scripts/record_proxy.py) beside the reply.
set -euo pipefail
build=${1:-build/release}
echo "== Local routing: app -> h1 -> h2 -> h3 -> echo, and the reply back"
echo
"$build/examples/local_routing"

bin=$(realpath "$build/ockam")
OCKAM_HOME=$(mktemp -d)
export OCKAM_HOME
cleanup() {
    "$bin" node delete --all -y >/dev/null 2>&1 || true
    rm -rf "$OCKAM_HOME"
}
trap cleanup EXIT

# Print a command the way a user types it, then run it.
show() {
    printf '\n$ ockam %s\n' "$*"
    "$bin" "$@"
}

# Same, for a command whose output (a route) the next commands use.
capture() {
    local var=$1
    shift
    printf '\n$ ockam %s\n' "$*"
    local out
    out=$("$bin" "$@")
    echo "$out"
    printf -v "$var" '%s' "$out"
}

# The port of a node's TCP listener, read back from `node show` (it bound 127.0.0.1:0).
node_port() {
    "$bin" node show "$1" --output json |
        sed -n 's/.*"tcp_listener_address": "[^"]*:\([0-9]*\)".*/\1/p'
}

echo
echo "== The ockam command: nodes, services, TCP connections (OCKAM_HOME=$OCKAM_HOME)"
show node create n1
show message send hello --to /node/n1/service/echo
show message send hello --to /node/n1/service/hop/service/echo
show message send hello --to /node/n1/service/hop/service/hop/service/echo
show service start hop --addr h1 --at n1
show message send hello --to /node/n1/service/h1/service/echo
show node create n2 --tcp-listener-address 127.0.0.1:0
show node create n3 --tcp-listener-address 127.0.0.1:0
p2=$(node_port n2)
p3=$(node_port n3)
show service start hop --at n2
capture c1 tcp-connection create --from n1 --to "127.0.0.1:$p2"
capture c2 tcp-connection create --from n2 --to "127.0.0.1:$p3"
show message send hello --from n1 --to "$c1/service/hop$c2/service/uppercase"
show node delete --all -y

# ---- secure channels --------------------------------------------------------------------------
echo
echo "== Secure channels: what the middle node forwards, and what arrives"
PROXIES=()
trap 'kill "${PROXIES[@]}" 2>/dev/null || true; cleanup' EXIT

# A recording proxy in front of 127.0.0.1:$2; sets $1 to its port. Logs: $log_dir/$1.{up,down}.
log_dir=$(mktemp -d)
record() {
    local var=$1 fifo="$log_dir/$1.port"
    mkfifo "$fifo"
    python3 "$(dirname "$0")/record_proxy.py" "$2" "$log_dir/$1" >"$fifo" &
    PROXIES+=($!)
    local port
    read -r port <"$fifo"
    printf -v "$var" '%s' "$port"
}

# Side by side: the bytes the middle node forwarded towards the far node (hex, as many 32-byte
# rows as fit in 6 lines), and the reply that came back out of the route.
side_by_side() { # title log reply
    local hex
    hex=$(xxd -p -c 32 "$2" | tail -n 6)
    printf '\n  %-66s | %s\n' "$1: what the middle node forwarded (hex)" "what arrived"
    local first=1 line
    while IFS= read -r line; do
        if [ -n "$first" ]; then
            printf '  %-66s | %s\n' "$line" "$3"
            first=
        else
            printf '  %-66s |\n' "$line"
        fi
    done <<<"$hex"
    if grep -q "hello-secure-world" "$2"; then
        echo "  (the text crossed the middle node IN CLEAR)"
    else
        echo "  (the text never crossed the middle node in clear)"
    fi
}

# TCP -> relay -> TCP: client -> relay node (behind a recording proxy) -> server.
show node create relay
show node create server
show relay create server --at /node/relay --to /node/server
show node create client
relay_port=$("$bin" node show relay --output json | sed -n 's/.*"tcp_listener_address": "[^"]*:\([0-9]*\)".*/\1/p')
record relay_proxy "$relay_port"
via="/ip4/127.0.0.1/tcp/$relay_proxy/service/forward_to_server"
: >"$log_dir/relay_proxy.up"
capture plain message send hello-secure-world --from client --to "$via/service/uppercase"
side_by_side "without a channel" "$log_dir/relay_proxy.up" "$plain"
: >"$log_dir/relay_proxy.up"
capture reply message send hello-secure-world --from client --to "$via/secure/api/service/uppercase"
side_by_side "TCP -> relay -> TCP, secure channel" "$log_dir/relay_proxy.up" "$reply"

# UDP -> TCP: client -UDP-> n2 -TCP-> n3, the TCP hop behind a recording proxy.
show node create n3
n3_port=$("$bin" node show n3 --output json | sed -n 's/.*"tcp_listener_address": "[^"]*:\([0-9]*\)".*/\1/p')
record n3_proxy "$n3_port"
show node create n2 --udp-listener-address 127.0.0.1:0 --allow-outgoing "127.0.0.1:$n3_proxy"
udp=$("$bin" node show n2 --output json | sed -n 's/.*"udp_listener_address": "[^"]*:\([0-9]*\)".*/\1/p')
: >"$log_dir/n3_proxy.up"
capture reply message send hello-secure-world --from client \
    --to "/ip4/127.0.0.1/udp/$udp/ip4/127.0.0.1/tcp/$n3_proxy/secure/api/service/uppercase"
side_by_side "UDP -> TCP, secure channel" "$log_dir/n3_proxy.up" "$reply"
show node delete --all -y
rm -rf "$log_dir"

