#!/usr/bin/env bats
# UDP in the ockam command (issue 6): --udp-listener-address, udp-listener and udp-connection,
# /ip4/A/udp/P multiaddrs, and routes that mix UDP and TCP across real node processes.

load helpers

# A field of the stats of a node's only UDP listener or connection.
udp_stat() { # node kind(udp_listeners|udp_connections) field
    "$OCKAM" node show "$1" --output json | jq -r ".$2[0].stats.$3"
}

@test "the issue's example works as shown (port 0 instead of 6000 and 7000, read back)" {
    ockam node create n1
    run ockam node create n2 --udp-listener-address 127.0.0.1:0
    assert_success
    p6=$(udp_port n2)
    run ockam node create n3 --tcp-listener-address 127.0.0.1:0
    assert_success
    p7=$(node_port n3)
    c=$(ockam tcp-connection create --from n2 --to "127.0.0.1:$p7")
    run ockam message send hello --from n1 --to "/ip4/127.0.0.1/udp/$p6/service/hop$c/service/uppercase"
    assert_success
    assert_output "HELLO"
    # The same from a temporary node in the CLI process, and with a /dnsaddr first hop.
    run ockam message send hello --to "/ip4/127.0.0.1/udp/$p6/service/hop$c/service/uppercase"
    assert_output "HELLO"
    run ockam message send hi --to "/dnsaddr/localhost/udp/$p6/service/echo"
    assert_output "hi"
}

@test "n1 -UDP-> n2 (hop) -TCP-> n3 (echo) and back, with real node processes" {
    ockam node create n1
    ockam node create n2 --udp-listener-address 127.0.0.1:0
    ockam node create n3
    p2=$(udp_port n2)
    c23=$(ockam tcp-connection create --from n2 --to "127.0.0.1:$(node_port n3)")
    run ockam message send "there and back" --from n1 \
        --to "/ip4/127.0.0.1/udp/$p2/service/hop$c23/service/echo"
    assert_success
    assert_output "there and back"
    # The request came in over UDP and the reply left over UDP; n3 saw n2 over TCP.
    assert_equal "$(udp_stat n2 udp_listeners messages_in)" "1"
    assert_equal "$(udp_stat n2 udp_listeners messages_out)" "1"
    run ockam tcp-connection list --at n3
    assert_equal "$(jq -r '.[0].mode' <<<"$output")" "incoming"
}

@test "n1 -TCP-> n2 -UDP-> n3 -TCP-> n4 and back, with real node processes" {
    ockam node create n4
    ockam node create n3 --udp-listener-address 127.0.0.1:0
    ockam node create n2
    ockam node create n1
    c34=$(ockam tcp-connection create --from n3 --to "127.0.0.1:$(node_port n4)")
    run ockam udp-connection create --from n2 --to "127.0.0.1:$(udp_port n3)"
    assert_success
    assert_output --regexp '^/worker/[0-9a-f]{32}$'
    u23=$output
    c12=$(ockam tcp-connection create --from n1 --to "127.0.0.1:$(node_port n2)")
    run ockam message send hello --from n1 --to "$c12/service/hop$u23/service/hop$c34/service/uppercase"
    assert_success
    assert_output "HELLO"
    run ockam message send again --to "/node/n2/service/hop$u23/service/hop$c34/service/echo"
    assert_output "again"
    assert_equal "$(udp_stat n2 udp_connections messages_out)" "2"
    assert_equal "$(udp_stat n2 udp_connections messages_in)" "2"
    assert_equal "$(udp_stat n3 udp_listeners messages_in)" "2"
}

@test "udp-listener create, list, show and delete" {
    ockam node create n1
    run ockam udp-listener create 127.0.0.1:0 --at n1
    assert_success
    assert_output --regexp '^/ip4/127.0.0.1/udp/[0-9]+$'
    route=$output
    port=${output##*/}
    run ockam message send hi --to "$route/service/echo"
    assert_output "hi"
    run ockam udp-listener list --at n1
    assert_success
    assert_equal "$(jq length <<<"$output")" "1"
    assert_equal "$(jq -r '.[0].address' <<<"$output")" "127.0.0.1:$port"
    assert_equal "$(jq -r '.[0].type' <<<"$output")" "udp"
    assert_equal "$(jq -r '.[0].main' <<<"$output")" "false"
    id=$(jq -r '.[0].id' <<<"$output")
    [[ "$id" =~ ^[0-9a-f]{32}$ ]]
    run ockam udp-listener show "$id" --at n1
    assert_success
    assert_equal "$(jq -r .address <<<"$output")" "127.0.0.1:$port"
    assert_equal "$(jq -r .stats.messages_in <<<"$output")" "1"
    run ockam udp-listener show "127.0.0.1:$port" --at n1 --output json
    assert_equal "$(jq -r .id <<<"$output")" "$id"
    run ockam udp-listener delete "127.0.0.1:$port" --at n1 </dev/null
    assert_failure 70
    run ockam udp-listener delete "127.0.0.1:$port" --at n1 -y
    assert_success
    assert_output "127.0.0.1:$port"
    run ockam udp-listener show "$id" --at n1
    assert_failure 70
    assert_output --partial "UDP listener $id was not found on node n1"
    run ockam udp-listener list --at n1 --output json
    assert_output "[]"
    run ockam message send hi --to "$route/service/echo" --timeout 1s
    assert_failure 70
    assert_output --partial "No reply"
}

@test "udp-listener create: bad, taken and missing addresses" {
    ockam node create n1 --udp-listener-address 127.0.0.1:0
    p=$(udp_port n1)
    run ockam udp-listener create "127.0.0.1:$p" --at n1
    assert_failure 70
    assert_output --partial "127.0.0.1:$p is already in use"
    run ockam udp-listener create nonsense --at n1
    assert_failure 64
    run ockam udp-listener create
    assert_failure 64
    run ockam udp-listener show nope --at n1
    assert_failure 70
    run ockam udp-listener create 127.0.0.1:0 --at nobody
    assert_failure 70
    assert_output --partial "The node nobody was not found"
}

@test "node create --udp-listener-address: shown, used, and its startup errors" {
    run ockam node create n1 --udp-listener-address 127.0.0.1:0 --output json
    assert_success
    addr=$(jq -r .udp_listener_address <<<"$output")
    [[ "$addr" =~ ^127\.0\.0\.1:[0-9]+$ ]]
    [ "${addr##*:}" != 0 ]
    assert_equal "$(jq -r '.udp_listeners[0].main' <<<"$output")" "true"
    run ockam message send hi --to "/ip4/127.0.0.1/udp/${addr##*:}/service/uppercase"
    assert_output "HI"
    run ockam node create n2 --udp-listener-address "$addr"
    assert_failure 70
    assert_output --partial "$addr is already in use"
    run ockam node list --output json
    assert_equal "$(jq length <<<"$output")" "1"
    run ockam node create n3 --udp-listener-address nonsense
    assert_failure 64
    run ockam node create n4
    assert_equal "$(ockam node show n4 --output json | jq -r .udp_listener_address)" "null"
}

@test "node start restores the UDP listener address and the extra UDP listeners" {
    ockam node create n1 --udp-listener-address 127.0.0.1:0
    p=$(udp_port n1)
    extra=$(ockam udp-listener create 127.0.0.1:0 --at n1)
    ockam node stop n1
    run ockam node start n1
    assert_success
    assert_equal "$(udp_port n1)" "$p"
    run ockam udp-listener list --at n1
    assert_equal "$(jq length <<<"$output")" "2"
    run ockam message send hi --to "/ip4/127.0.0.1/udp/$p/service/echo"
    assert_output "hi"
    run ockam message send hi --to "$extra/service/uppercase"
    assert_output "HI"
    # A deleted listener stays deleted across a restart.
    ockam udp-listener delete "127.0.0.1:${extra##*/}" --at n1 -y
    ockam node stop n1
    ockam node start n1
    run ockam udp-listener list --at n1
    assert_equal "$(jq length <<<"$output")" "1"
}

@test "udp-connection create prints /worker/<hex>; list, show and delete it" {
    ockam node create n1
    ockam node create n2 --udp-listener-address 127.0.0.1:0
    p=$(udp_port n2)
    run ockam udp-connection create --from n1 --to "127.0.0.1:$p"
    assert_success
    assert_output --regexp '^/worker/[0-9a-f]{32}$'
    u=$output
    run ockam message send hello --from n1 --to "$u/service/uppercase"
    assert_output "HELLO"
    run ockam udp-connection list --at n1
    assert_equal "$(jq length <<<"$output")" "1"
    assert_equal "$(jq -r '.[0].route' <<<"$output")" "$u"
    assert_equal "$(jq -r '.[0].peer' <<<"$output")" "127.0.0.1:$p"
    assert_equal "$(jq -r '.[0].mode' <<<"$output")" "outgoing"
    assert_equal "$(jq -r '.[0].operator' <<<"$output")" "true"
    run ockam udp-connection show "127.0.0.1:$p" --at n1
    assert_success
    assert_equal "$(jq -r .route <<<"$output")" "$u"
    run ockam udp-connection show "$u" --at n1 --output json
    assert_equal "$(jq -r .stats.messages_out <<<"$output")" "1"
    run ockam udp-connection delete "$u" --at n1 </dev/null
    assert_failure 70
    run ockam udp-connection delete "$u" --at n1 -y
    assert_success
    assert_output "$u"
    run ockam udp-connection show "$u" --at n1
    assert_failure 70
    assert_output --partial "was not found on node n1"
    run ockam message send hello --from n1 --to "$u/service/uppercase" --timeout 1s
    assert_failure 70
}

@test "node stop and node start bring udp-connection create's connections back" {
    ockam node create n1
    ockam node create n2 --udp-listener-address 127.0.0.1:0
    p=$(udp_port n2)
    ockam udp-connection create --from n1 --to "127.0.0.1:$p" >/dev/null
    run ockam node stop n1
    assert_success
    run ockam node start n1
    assert_success
    run ockam udp-connection list --at n1
    assert_success
    assert_equal "$(jq length <<<"$output")" "1"
    assert_equal "$(jq -r '.[0].peer' <<<"$output")" "127.0.0.1:$p"
    u=$(jq -r '.[0].route' <<<"$output")
    # The restored connection carries messages (and reaches n1's public services from n2).
    run ockam message send hello --from n1 --to "$u/service/uppercase"
    assert_success
    assert_output "HELLO"
    # Deleted, it stays deleted across another restart.
    ockam udp-connection delete "$u" --at n1 -y >/dev/null
    ockam node stop n1 && ockam node start n1
    run ockam udp-connection list --at n1
    assert_equal "$(jq length <<<"$output")" "0"
}

@test "udp-connection create: bad and missing arguments" {
    ockam node create n1
    run ockam udp-connection create --from n1
    assert_failure 64
    run ockam udp-connection create --from n1 --to nonsense
    assert_failure 64
    run ockam udp-connection create --from n1 --to 127.0.0.1:0
    assert_failure 70
    assert_output --partial "not a valid HOST:PORT"
    run ockam udp-connection show nope --at n1
    assert_failure 70
}

@test "a middle node forwards to a UDP address only when its allow-list says so" {
    ockam node create n3 --udp-listener-address 127.0.0.1:0
    p3=$(udp_port n3)
    ockam node create closed
    run ockam message send hi --to "/node/closed/service/hop/ip4/127.0.0.1/udp/$p3/service/echo" \
        --timeout 1s
    assert_failure 70
    assert_output --partial "No reply"
    ockam node create open --allow-outgoing "127.0.0.1:$p3"
    run ockam message send hi --to "/node/open/service/hop/ip4/127.0.0.1/udp/$p3/service/echo"
    assert_success
    assert_output "hi"
}

@test "services reach UDP listeners and connections made before they started" {
    ockam node create n1
    ockam node create n2 --udp-listener-address 127.0.0.1:0
    ockam node create n3 --udp-listener-address 127.0.0.1:0
    u=$(ockam udp-connection create --from n2 --to "127.0.0.1:$(udp_port n3)")
    ockam service start hop --addr late --at n2
    run ockam message send hello --from n1 \
        --to "/ip4/127.0.0.1/udp/$(udp_port n2)/service/late$u/service/uppercase"
    assert_success
    assert_output "HELLO"
}

@test "the node manager is not reachable over UDP, not even through a hop" {
    ockam node create n1 --udp-listener-address 127.0.0.1:0
    p=$(udp_port n1)
    run ockam message send '{"method":"GET","path":"/node"}' \
        --to "/ip4/127.0.0.1/udp/$p/service/_internal.nodemanager" --timeout 1s
    assert_failure 70
    run ockam message send '{"method":"GET","path":"/node"}' \
        --to "/ip4/127.0.0.1/udp/$p/service/hop/service/_internal.nodemanager" --timeout 1s
    assert_failure 70
    ockam node stop n1 # repeats are collapsed in stdout.log: the count is complete at stop
    assert_equal "$(log_events n1 "flow control denies 0#_internal.nodemanager")" "2"
}

@test "help, JSON for every UDP command, plain on a terminal" {
    for group in udp-listener udp-connection; do
        run ockam $group --help
        assert_success
        assert_output --partial "Usage: ockam $group"
        run ockam --help
        assert_output --partial "$group"
    done
    for cmd in "udp-listener create" "udp-listener list" "udp-listener show" \
        "udp-listener delete" "udp-connection create" "udp-connection list" \
        "udp-connection show" "udp-connection delete"; do
        run ockam $cmd --help
        assert_success
        assert_output --partial "Usage: ockam $cmd"
    done
    j() { run --separate-stderr ockam "$@" --output json; assert_success; jq -e . <<<"$output" >/dev/null; }
    ockam node create n1 --udp-listener-address 127.0.0.1:0
    j udp-listener create 127.0.0.1:0 --at n1
    a=$(jq -r .address <<<"$output")
    j udp-listener list --at n1
    j udp-listener show "$a" --at n1
    j udp-connection create --from n1 --to "$a"
    u=$(jq -r .route <<<"$output")
    j udp-connection list --at n1
    j udp-connection show "$u" --at n1
    j udp-connection delete "$u" --at n1 -y
    j udp-listener delete "$a" --at n1 -y
    run script -qec "$OCKAM udp-listener list --at n1" /dev/null
    assert_output --partial "UDP listener at 127.0.0.1:$(udp_port n1) (main)"
    run script -qec "$OCKAM node show n1" /dev/null
    assert_output --partial "UDP listeners:"
}

@test "/ip6/::1/udp/P reaches an IPv6 UDP listener" {
    run ockam node create n1 --udp-listener-address '[::1]:0' --output json
    if [ "$status" -ne 0 ]; then
        skip "no IPv6 loopback here"
    fi
    addr=$(jq -r .udp_listener_address <<<"$output")
    [[ "$addr" =~ ^\[::1\]:[0-9]+$ ]]
    run ockam message send hi --to "/ip6/::1/udp/${addr##*:}/service/echo"
    assert_output "hi"
    run ockam udp-connection create --from n1 --to "$addr"
    assert_success
    run ockam message send hi --from n1 --to "$output/service/uppercase"
    assert_output "HI"
}

# localhost is 127.0.0.1 first, then ::1 (docs/wire.md §5.5): a node listening on [::1] only
# refuses the first datagram (ICMP port unreachable), and the message goes to ::1 instead.
@test "/dnsaddr/localhost/udp/P and udp-connection create --to localhost:P reach a node on [::1] only" {
    run ockam node create n2 --udp-listener-address '[::1]:0' --output json
    if [ "$status" -ne 0 ]; then
        skip "no IPv6 loopback (::1) here"
    fi
    p=$(udp_port n2)
    ockam node create n1
    run ockam message send hi --from n1 --to "/dnsaddr/localhost/udp/$p/service/echo"
    assert_success
    assert_output "hi"
    # The CLI's own temporary node too.
    run ockam message send hey --to "/dnsaddr/localhost/udp/$p/service/echo"
    assert_success
    assert_output "hey"
    run ockam udp-connection create --from n1 --to "localhost:$p"
    assert_success
    u=$output
    run ockam message send hello --from n1 --to "$u/service/uppercase"
    assert_success
    assert_output "HELLO"
    # The peer in use is ::1 now; the connection keeps the name it was given.
    run ockam udp-connection show "localhost:$p" --at n1 --output json
    assert_success
    assert_equal "$(jq -r .peer <<<"$output")" "[::1]:$p"
    assert_equal "$(jq -r .to <<<"$output")" "localhost:$p"
    assert_equal "$(jq -r .stats.resent <<<"$output")" "1"
    assert_equal "$(jq -r .stats.send_dropped <<<"$output")" "0"
    # Restored by name: the fallback happens again after node start.
    ockam node stop n1 && ockam node start n1
    run ockam udp-connection list --at n1
    assert_equal "$(jq -r '.[0].to' <<<"$output")" "localhost:$p"
    u=$(jq -r '.[0].route' <<<"$output")
    run ockam message send again --from n1 --to "$u/service/echo"
    assert_success
    assert_output "again"
}
