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

source "$(dirname "$0")/netns.bash"
[ -x "$TOOL" ] || fail "no tool at $TOOL"
ns_setup ockudp
command -v nft >/dev/null || fail "nftables (nft) is not installed: apt-get install nftables"

ip netns exec "$NS_B" nft add table netdev ockudp || fail "nft table (kernel nftables support?)"
ip netns exec "$NS_B" nft add chain netdev ockudp in \
    "{ type filter hook ingress device $VETH_B priority 0; policy accept; }" || fail "nft chain"
ip netns exec "$NS_B" nft add rule netdev ockudp in \
    udp dport $PORT numgen random mod 100 '<' 10 counter drop || fail "nft rule"

ns_recv_start "$TOOL" recv 198.18.0.2:$PORT $SINGLES $MULTIS $CAP

timeout 60 ip netns exec "$NS_A" "$TOOL" send 198.18.0.1:0 198.18.0.2:$PORT $SINGLES $MULTIS \
    $MULTI_SIZE >"$WORK/send.out" 2>"$WORK/send.err"
SEND_RC=$?
cat "$WORK/send.out"
[ $SEND_RC = 0 ] || fail "sender exited with $SEND_RC: $(cat "$WORK/send.err")"

ns_recv_wait
echo "nft: $(ip netns exec "$NS_B" nft list chain netdev ockudp in | grep -o 'packets [0-9]*')"
echo "PASS"
