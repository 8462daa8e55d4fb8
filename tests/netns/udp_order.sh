#!/bin/bash
# UDP over a slow link with ICMP errors coming back: nothing may be lost or reordered by the
# sender.
#
#   udp_order.sh PATH/TO/udp_loss_tool
#
# Namespaces ockord-a-$$ and ockord-b-$$ (netns.bash). The sender's side of the veth is an
# 8 Mbit/s link (tbf, a queue long enough never to drop), so its socket's send buffer fills and
# datagrams wait in the bind's queue and libuv's. Every message to the receiver is followed by
# one to a port of b where nobody listens; b answers each with ICMP port unreachable (rate
# limit off), which Linux reports as a pending error of one of the socket's LATER sends: a
# datagram to the receiver that fails that way must go out again in its place, or the
# receiver sees its message's fragments out of order and drops the message. Checks: every
# message arrives, intact; the sender's queue was used and ICMP errors did arrive (else this
# test tests nothing).
set -u

TOOL=${1:?usage: udp_order.sh PATH/TO/udp_loss_tool}
SINGLES=3000
MULTIS=300
MULTI_SIZE=3000 # 7 fragments
CAP=$((64 * 1024))
PORT=40000
DEAD=40001

source "$(dirname "$0")/netns.bash"
[ -x "$TOOL" ] || fail "no tool at $TOOL"
ns_setup ockord
command -v tc >/dev/null || fail "tc (iproute2) is not installed"
ip netns exec "$NS_B" sysctl -qw net.ipv4.icmp_ratelimit=0 || fail "sysctl icmp_ratelimit"
ip netns exec "$NS_A" tc qdisc add dev "$VETH_A" root tbf rate 8mbit burst 16kb limit 16mb \
    || fail "tc tbf (kernel sch_tbf?)"

ns_recv_start "$TOOL" recv 198.18.0.2:$PORT $SINGLES $MULTIS $CAP 0

timeout 60 ip netns exec "$NS_A" "$TOOL" send 198.18.0.1:0 198.18.0.2:$PORT $SINGLES $MULTIS \
    $MULTI_SIZE 198.18.0.2:$DEAD >"$WORK/send.out" 2>"$WORK/send.err"
SEND_RC=$?
cat "$WORK/send.out"
[ $SEND_RC = 0 ] || fail "sender exited with $SEND_RC: $(cat "$WORK/send.err")"
ns_recv_wait

grep -q 'unreachable=[1-9]' "$WORK/send.out" || fail "no ICMP error reached the sender"
grep -q 'peak_queued=[1-9]' "$WORK/send.out" || fail "the sender's queue was never used"
echo "PASS"
