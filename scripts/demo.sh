#!/usr/bin/env bash
# The demo: local routing through three hops inside one node, then the `ockam` command's seed
# sequence with real background nodes (free ports instead of 7000 and 8000, state in a
# temporary OCKAM_HOME, every node deleted at the end).
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

# A free port: a throwaway node binds 127.0.0.1:0, we read the port back, then delete it.
free_port() {
    "$bin" node create demo-probe >/dev/null
    "$bin" node show demo-probe --output json |
        sed -n 's/.*"tcp_listener_address": "[^"]*:\([0-9]*\)".*/\1/p'
    "$bin" node delete demo-probe -y >/dev/null
}

echo
echo "== The ockam command: nodes, services, TCP connections (OCKAM_HOME=$OCKAM_HOME)"
show node create n1
show message send hello --to /node/n1/service/echo
show message send hello --to /node/n1/service/hop/service/echo
show message send hello --to /node/n1/service/hop/service/hop/service/echo
show service start hop --addr h1 --at n1
show message send hello --to /node/n1/service/h1/service/echo
p2=$(free_port)
p3=$(free_port)
show node create n2 --tcp-listener-address "127.0.0.1:$p2"
show node create n3 --tcp-listener-address "127.0.0.1:$p3"
show service start hop --at n2
capture c1 tcp-connection create --from n1 --to "127.0.0.1:$p2"
capture c2 tcp-connection create --from n2 --to "127.0.0.1:$p3"
show message send hello --from n1 --to "$c1/service/hop$c2/service/uppercase"
show node delete --all -y
