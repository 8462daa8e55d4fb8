#!/bin/bash
# UDP under 10 % random loss between two network namespaces (issue 6).
#
#   udp_loss.sh PATH/TO/udp_loss_tool
#
# Creates namespaces ockudp-a-$$ and ockudp-b-$$ joined by a veth pair (198.18.0.1/30 and
# 198.18.0.2/30, the benchmarking range), drops 10 % of the UDP datagrams arriving in b with
# an nftables `numgen random` rule on the veth's ingress hook (netem is not available here;
# dropping on the sender's output would make sendto fail instead), and runs the receiver in b
# and the sender in a. The receiver checks: 10 000 single-fragment messages arrive at 85-95 %,
# multi-fragment messages (checksummed) arrive intact or not at all, reassembly memory stays
# within its cap; both processes must exit cleanly. Everything it creates is removed on exit
# (trap). Exit 77 (CTest SKIP_RETURN_CODE) only when network namespaces are not permitted.
set -u

TOOL=${1:?usage: udp_loss.sh PATH/TO/udp_loss_tool}
SINGLES=10000
MULTIS=300
MULTI_SIZE=3000         # 7 fragments: each arrives intact with probability 0.9^7 ~ 48 %
CAP=$((64 * 1024))      # receiver's reassembly cap (per peer and in total)
PORT=40000
NS_A=ockudp-a-$$
NS_B=ockudp-b-$$
VETH_A=ouA$$            # interface names are limited to 15 characters
VETH_B=ouB$$
WORK=$(mktemp -d)

cleanup() {
    [ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null
    ip netns del "$NS_A" 2>/dev/null
    ip netns del "$NS_B" 2>/dev/null
    ip link del "$VETH_A" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ -x "$TOOL" ] || fail "no tool at $TOOL"
command -v ip >/dev/null || fail "iproute2 (ip) is not installed"
if [ "$(id -u)" != 0 ]; then
    skip "network namespaces need root (CAP_SYS_ADMIN); running as uid $(id -u)"
fi
if ! ip netns add "$NS_A" 2>"$WORK/err"; then
    skip "network namespaces are not permitted here: $(cat "$WORK/err")"
fi
ip netns add "$NS_B" || fail "cannot create a second namespace"
command -v nft >/dev/null || fail "nftables (nft) is not installed: apt-get install nftables"

ip link add "$VETH_A" type veth peer name "$VETH_B" || fail "cannot create a veth pair"
ip link set "$VETH_A" netns "$NS_A" && ip link set "$VETH_B" netns "$NS_B" || fail "veth move"
ip -n "$NS_A" addr add 198.18.0.1/30 dev "$VETH_A" || fail "address a"
ip -n "$NS_B" addr add 198.18.0.2/30 dev "$VETH_B" || fail "address b"
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set "$VETH_A" up && ip -n "$NS_B" link set "$VETH_B" up || fail "link up"

ip netns exec "$NS_B" nft add table netdev ockudp || fail "nft table (kernel nftables support?)"
ip netns exec "$NS_B" nft add chain netdev ockudp in \
    "{ type filter hook ingress device $VETH_B priority 0; policy accept; }" || fail "nft chain"
ip netns exec "$NS_B" nft add rule netdev ockudp in \
    udp dport $PORT numgen random mod 100 '<' 10 counter drop || fail "nft rule"

# The receiver says "ready" once bound; read that line from a fifo, with a deadline.
mkfifo "$WORK/out"
timeout 90 ip netns exec "$NS_B" "$TOOL" recv 198.18.0.2:$PORT $SINGLES $MULTIS $CAP \
    >"$WORK/out" 2>"$WORK/recv.err" &
RECV_PID=$!
exec 3<"$WORK/out"
read -r -t 20 line <&3 || fail "receiver did not start: $(cat "$WORK/recv.err")"
case "$line" in ready*) ;; *) fail "receiver: $line $(cat "$WORK/recv.err")" ;; esac

timeout 60 ip netns exec "$NS_A" "$TOOL" send 198.18.0.1:0 198.18.0.2:$PORT $SINGLES $MULTIS \
    $MULTI_SIZE >"$WORK/send.out" 2>"$WORK/send.err"
SEND_RC=$?
cat "$WORK/send.out"
[ $SEND_RC = 0 ] || fail "sender exited with $SEND_RC: $(cat "$WORK/send.err")"

cat <&3 >"$WORK/recv.out"
wait "$RECV_PID"
RECV_RC=$?
RECV_PID=
cat "$WORK/recv.out"
echo "nft: $(ip netns exec "$NS_B" nft list chain netdev ockudp in | grep -o 'packets [0-9]*')"
[ $RECV_RC = 0 ] || fail "receiver exited with $RECV_RC: $(tail -5 "$WORK/recv.err")"
echo "PASS"
