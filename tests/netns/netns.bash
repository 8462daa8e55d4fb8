# Shared by the UDP tests in network namespaces (udp_loss.sh, udp_order.sh): two namespaces
# joined by a veth pair, a with 198.18.0.1/30 and b with 198.18.0.2/30 (the benchmarking
# range), removed on exit with everything else the test made.
#
#   source netns.bash; ns_setup NAME     (namespaces NAME-a-$$ and NAME-b-$$: $NS_A, $NS_B,
#                                         interfaces $VETH_A in a and $VETH_B in b, $WORK)
#   ns_recv_start CMD...                  run CMD in b, wait for its "ready" line
#   ns_recv_wait                          its output, then exit 1 unless it passed
#
# Exit 77 (CTest SKIP_RETURN_CODE) only when network namespaces are not permitted.

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

ns_cleanup() {
    [ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null
    ip netns del "$NS_A" 2>/dev/null
    ip netns del "$NS_B" 2>/dev/null
    ip link del "$VETH_A" 2>/dev/null
    rm -rf "$WORK"
}

ns_setup() {
    local name=$1
    NS_A=$name-a-$$
    NS_B=$name-b-$$
    VETH_A=${name:0:4}A$$ # interface names are limited to 15 characters
    VETH_B=${name:0:4}B$$
    WORK=$(mktemp -d)
    trap ns_cleanup EXIT
    trap 'exit 1' INT TERM
    command -v ip >/dev/null || fail "iproute2 (ip) is not installed"
    if [ "$(id -u)" != 0 ]; then
        skip "network namespaces need root (CAP_SYS_ADMIN); running as uid $(id -u)"
    fi
    if ! ip netns add "$NS_A" 2>"$WORK/err"; then
        skip "network namespaces are not permitted here: $(cat "$WORK/err")"
    fi
    ip netns add "$NS_B" || fail "cannot create a second namespace"
    ip link add "$VETH_A" type veth peer name "$VETH_B" || fail "cannot create a veth pair"
    ip link set "$VETH_A" netns "$NS_A" && ip link set "$VETH_B" netns "$NS_B" || fail "veth move"
    ip -n "$NS_A" addr add 198.18.0.1/30 dev "$VETH_A" || fail "address a"
    ip -n "$NS_B" addr add 198.18.0.2/30 dev "$VETH_B" || fail "address b"
    for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
    ip -n "$NS_A" link set "$VETH_A" up && ip -n "$NS_B" link set "$VETH_B" up || fail "link up"
}

# The receiver says "ready" once bound; read that line from a fifo, with a deadline.
ns_recv_start() {
    mkfifo "$WORK/out"
    timeout 90 ip netns exec "$NS_B" "$@" >"$WORK/out" 2>"$WORK/recv.err" &
    RECV_PID=$!
    exec 3<"$WORK/out"
    read -r -t 20 line <&3 || fail "receiver did not start: $(cat "$WORK/recv.err")"
    case "$line" in ready*) ;; *) fail "receiver: $line $(cat "$WORK/recv.err")" ;; esac
}

ns_recv_wait() {
    cat <&3 >"$WORK/recv.out"
    wait "$RECV_PID"
    RECV_RC=$?
    RECV_PID=
    cat "$WORK/recv.out"
    [ $RECV_RC = 0 ] || fail "receiver exited with $RECV_RC: $(tail -5 "$WORK/recv.err")"
}
