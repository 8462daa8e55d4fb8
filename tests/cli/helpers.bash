# Shared setup of the CLI tests: the built binary, one private OCKAM_HOME per test, ports read
# back from what bound 127.0.0.1:0 (never picked in advance: between a pick and the real bind,
# another process can take the port), and a teardown that proves nothing is left running and
# no node hit a sanitizer error.
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

OCKAM=${OCKAM_BIN:?set OCKAM_BIN to the built ockam binary}

ockam() {
    "$OCKAM" "$@"
}

setup() {
    OCKAM_HOME=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ockam-bats.XXXXXX")
    export OCKAM_HOME
    export NO_COLOR=1
    # Sanitizer reports of every process of the test (the commands as well as their nodes) go
    # to files, so that a command whose failure the test expects cannot hide one.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$OCKAM_HOME/sanitizer"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$OCKAM_HOME/sanitizer"
}

# Nodes run with ASan: stop them first so that a report at exit lands in their logs.
sanitizer_reports() {
    local n
    for n in "$OCKAM_HOME"/nodes/*/; do
        [ -d "$n" ] || continue
        "$OCKAM" node stop "$(basename "$n")" >/dev/null 2>&1 || true
    done
    grep -l -E "AddressSanitizer|LeakSanitizer|runtime error" "$OCKAM_HOME"/nodes/*/std*.log \
        "$OCKAM_HOME"/sanitizer.* 2>/dev/null || true
}

teardown() {
    local p reports
    for p in "${HELD_PORTS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    reports=$(sanitizer_reports)
    local report_text=""
    # shellcheck disable=SC2086
    [ -z "$reports" ] || report_text=$(head -n 40 $reports)
    "$OCKAM" node delete --all -y >/dev/null 2>&1 || true
    # What a test file started for its nodes (kafka.bats: the mock cluster) stops after them.
    if declare -F teardown_after_nodes >/dev/null; then teardown_after_nodes; fi
    local left
    left=$(pgrep -f -- "--home $OCKAM_HOME" || true)
    rm -rf "$OCKAM_HOME"
    if [ -n "$left" ]; then
        echo "processes left behind: $left" >&2
        return 1
    fi
    if [ -n "$reports" ]; then
        echo "sanitizer reports in: $reports" >&2
        echo "$report_text" >&2
        return 1
    fi
}

# The port a node listens on, read back from its JSON.
node_port() {
    "$OCKAM" node show "$1" --output json | jq -r '.tcp_listener_address' | sed 's/.*://'
}

# The UDP port of a node's --udp-listener-address, read back from its JSON.
udp_port() {
    local addr
    addr=$("$OCKAM" node show "$1" --output json | jq -r .udp_listener_address)
    echo "${addr##*:}"
}

# Waits (at most $2 s, default 10) until the file $1 exists.
wait_file() { # path [seconds]
    local deadline=$((SECONDS + ${2:-10}))
    while [ $SECONDS -lt $deadline ]; do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    echo "$1 never appeared" >&2
    return 1
}

# The address (HOST:PORT) inlet $1 of node $2 is bound to.
inlet_addr() { # alias node
    "$OCKAM" tcp-inlet show "$1" --at "$2" --output json | jq -r .bind_addr
}

# Runs `ockam tcp-inlet create ARGS...` (its --from with port 0: the node binds, the kernel
# picks) and sets the variable named $1 to the port of the address it printed, the one bound.
create_inlet() { # var tcp-inlet-create-args...
    local var=$1 out
    shift
    out=$("$OCKAM" tcp-inlet create "$@") || return
    if ! [[ "$out" =~ ^127\.0\.0\.1:[1-9][0-9]*$ ]]; then
        echo "tcp-inlet create printed '$out', not a bound address" >&2
        return 1
    fi
    printf -v "$var" '%s' "${out##*:}"
}

HELD_PORTS=()

# Sets the variable named $1 to a TCP port of 127.0.0.1 where nothing listens, for as long as the
# test runs: a process binds 127.0.0.1:0 without listening and keeps the socket (connections are
# refused; no other socket can bind the port, nor can connect() pick it as its local port).
closed_port() { # var
    local file="$BATS_TEST_TMPDIR/closed-$1"
    python3 -c '
import os, signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
signal.pause()' "$file" </dev/null >/dev/null 2>&1 3>&- &
    HELD_PORTS+=($!)
    wait_file "$file" || return
    printf -v "$1" '%s' "$(cat "$file")"
}

# The process is gone. A zombie whose parent is init is already dead: reaping it is init's job.
assert_gone() {
    local stat
    stat=$(ps -o stat= -p "$1" || true)
    [ -z "$stat" ] || [[ "$stat" == Z* ]]
}

# How many times a node logged lines containing TEXT: the lines themselves plus the counts of
# the "... and N more like this" lines that collapsed repeats (written at the latest when the
# node stops: stop it first for an exact count).
log_events() { # node text
    local log="$OCKAM_HOME/nodes/$1/stdout.log"
    local firsts more
    firsts=$(grep -v 'more like this in the last' "$log" | grep -c -F -- "$2" || true)
    more=$(grep -F -- "$2" "$log" | grep -o 'and [0-9]* more like this in the last' \
        | awk '{n += $2} END {print n + 0}')
    echo $((firsts + more))
}
