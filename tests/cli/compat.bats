#!/usr/bin/env bats
# Scripts written for Ockam's own `ockam` run unchanged: the conventions they depend on
# (routes piped through '-', listener routes, what node show/start print, relay and portal
# output, "not found" answers and exit codes, route limits, flags Ockam accepts).

load helpers

@test "'-' in a route is the route the previous command printed, anywhere in the multiaddr" {
    ockam node create n1
    ockam node create n2
    run bash -c "'$OCKAM' relay create n1 --at /node/n2 --to /node/n1 \
        | '$OCKAM' message send hi --to /node/n2/-/service/uppercase"
    assert_success
    assert_output "HI"
    # At the start ('-/'), and a line with surrounding blanks and a trailing '/'.
    run bash -c "echo ' /node/n1/service/hop/ ' | '$OCKAM' message send hi --to -/service/echo"
    assert_success
    assert_output "hi"
    # At the end.
    run bash -c "echo /service/uppercase | '$OCKAM' message send abc --to /node/n1/-"
    assert_output "ABC"
    # Nothing on stdin: a usage error that says what '-' means.
    run ockam message send hi --to /node/n1/-/service/echo </dev/null
    assert_failure 64
    assert_output --partial "'-' stands for a route read from standard input"
}

@test "a TCP listener on 127.0.0.1 is shown as /dnsaddr/localhost/tcp/PORT, and that route works" {
    ockam node create n1
    run ockam tcp-listener create 127.0.0.1:0 --at n1
    assert_success
    assert_output --regexp '^/dnsaddr/localhost/tcp/[0-9]+$'
    run ockam message send hi --to "$output/service/echo"
    assert_success
    assert_output "hi"
    run ockam node show n1
    port=$(jq -r .tcp_listener_address <<<"$output" | sed 's/.*://')
    assert_equal "$(jq -r .route.verbose <<<"$output")" "/dnsaddr/localhost/tcp/$port"
    # Ockam's `transports` list (listeners) is there for scripts written against it.
    assert_equal "$(jq -r '.transports[0] | [.type, .mode, .socket_addr] | join(" ")' <<<"$output")" \
        "Tcp Listen 127.0.0.1:$port"
    run ockam message send hi --to "$(jq -r .route.verbose <<<"$output")/service/uppercase"
    assert_output "HI"
}

@test "node show lists services with addresses; node start prints the node as node show does" {
    ockam node create n1
    ockam service start hop --addr h1 --at n1
    run ockam node show n1
    assert_equal "$(jq -r '.services | map(.addr) | sort | join(",")' <<<"$output")" \
        "echo,h1,hop,uppercase"
    ockam node stop n1
    run --separate-stderr ockam node start n1
    assert_success
    assert_equal "$(jq -r .name <<<"$output")" "n1"
    assert_equal "$(jq -r .status <<<"$output")" "running"
    assert_equal "$(jq -r '[.services[] | select(.addr=="echo")] | length' <<<"$output")" "1"
    assert_equal "$(jq -r '.services | map(.addr) | sort | join(",")' <<<"$output")" \
        "echo,h1,hop,uppercase"
    # On a terminal: the plain view of node show.
    ockam node stop n1
    run script -qec "$OCKAM node start n1" /dev/null
    assert_success
    assert_output --partial "The node is UP"
    assert_output --partial "echo service at echo"
}

@test "node start without a name starts the default node; node stop -f and delete -f are accepted" {
    ockam node create n1
    ockam node stop -f
    run ockam node show n1 --output json
    assert_equal "$(jq -r .status <<<"$output")" "stopped"
    run --separate-stderr ockam node start
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" "running"
    run ockam node delete n1 -f -y
    assert_success
    run ockam node list --output json
    assert_output "[]"
}

@test "relay show: remote_address is a route, destination is there, not found is an error" {
    ockam node create n1
    ockam node create n2
    ockam relay create blue --at /node/n1 --to /node/n2
    run ockam relay show blue --at /node/n2 --output json
    assert_success
    assert_equal "$(jq -r .remote_address <<<"$output")" "/service/forward_to_blue"
    assert_equal "$(jq -r .destination <<<"$output")" "/ip4/127.0.0.1/tcp/$(node_port n1)"
    [[ "$(jq -r .relay_route <<<"$output")" == *"=> 0#forward_to_blue" ]]
    [[ "$(jq -r .worker_address <<<"$output")" == /service/* ]]
    # The list keeps Ockam's bare remote address.
    run ockam relay list --to /node/n2 --output json
    assert_equal "$(jq -r '.[0].remote_address' <<<"$output")" "forward_to_blue"
    run ockam relay show red --at /node/n2
    assert_failure 70
    assert_output --partial "The relay red was not found"
    # Deleting twice fails: "not found".
    ockam relay create red --at /node/n1 --to /node/n2
    run ockam relay delete -y blue --at /node/n2
    assert_success
    run ockam relay delete -y blue --at /node/n2
    assert_failure 70
    assert_output --partial "not found"
}

@test "tcp-outlet create without --from: first 'outlet', later a random address" {
    ockam node create n1
    run ockam tcp-outlet create --to 127.0.0.1:5000 --from test-outlet
    assert_output "/service/test-outlet"
    run ockam tcp-outlet create --to 127.0.0.1:5000
    assert_output "/service/outlet"
    run ockam tcp-outlet create --to 127.0.0.1:5000
    assert_success
    refute_output --partial "/service/outlet"
    assert_output --regexp '^/service/[0-9a-f]{32}$'
    # show takes the alias or its /service/ route.
    run ockam tcp-outlet show /service/outlet --output json
    assert_equal "$(jq -r .worker_address <<<"$output")" "/service/outlet"
}

@test "missing inlets and outlets: not found, and Ockam's delete rules" {
    ockam node create n1
    ockam node create n2
    ockam tcp-outlet create --at /node/n1 --to 127.0.0.1:5000
    run ockam tcp-outlet show non-existing-outlet --at n1
    assert_failure 70
    assert_output --partial "not found"
    run ockam tcp-outlet delete outlet --at n1 --yes
    assert_success
    # Gone, and the node has no outlet left: Ockam answers [] and succeeds.
    run ockam tcp-outlet delete outlet --at n1 --yes
    assert_success
    assert_output "[]"
    # Inlets: another inlet remains, so deleting the gone one fails.
    ockam tcp-inlet create --at n2 --from 0 --to /node/n1/service/outlet \
        --alias test-inlet --no-connection-wait
    ockam tcp-inlet create --at n2 --from 0 --to /node/n1/service/outlet \
        --no-connection-wait
    run ockam tcp-inlet show non-existing-inlet --at /node/n2
    assert_failure 70
    assert_output --partial "The tcp inlet non-existing-inlet was not found"
    run ockam tcp-inlet delete test-inlet --at /node/n2 --yes
    assert_success
    run ockam tcp-inlet delete test-inlet --at /node/n2 --yes
    assert_failure 70
    assert_output --partial "not found"
}

@test "tcp-inlet and tcp-outlet delete --all; tcp-inlet create --connection-wait" {
    ockam node create n1
    ockam tcp-outlet create --to 127.0.0.1:5000
    ockam tcp-outlet create --to 127.0.0.1:5001
    run ockam tcp-outlet delete --all
    assert_failure 70 # no terminal and no --yes
    run ockam tcp-outlet delete --all -y
    assert_success
    assert_equal "$(jq length <<<"$output")" "2"
    run ockam tcp-outlet list --output json
    assert_output "[]"
    run ockam tcp-outlet delete
    assert_failure 64
    run ockam tcp-outlet delete --all -y --at nope
    assert_failure 70
    assert_output --partial "The node nope was not found"
    run ockam tcp-inlet create --from 0 --to /node/n1/service/outlet \
        --connection-wait 10ms
    assert_success
    run ockam tcp-inlet create --to /node/n1/service/outlet --connection-wait soon
    assert_failure 64
    run ockam tcp-inlet delete --all -y
    assert_success
    run ockam tcp-inlet list --output json
    assert_output "[]"
}

@test "a multiaddr holds as many hops as a route; past that it says which limit" {
    ockam node create n1
    local r=/node/n1 i
    for i in $(seq 63); do r=$r/service/hop; done
    run ockam message send hi --to "$r/service/echo"
    assert_success
    assert_output "hi"
    # 1 (node) + 1022 hops + echo = 1024 addresses: the most a route holds.
    r=/node/n1
    for i in $(seq 1022); do r=$r/service/hop; done
    run ockam message send hi --to "$r/service/echo"
    assert_success
    assert_output "hi"
    run ockam message send hi --to "$r/service/hop/service/echo"
    assert_failure 64
    assert_output --partial "route too long: 1025 addresses, at most 1024"
    run ockam message send hi --from n1 --to "$r/service/hop/service/echo"
    assert_failure 64
    assert_output --partial "route too long"
}

@test "TCP listener and connection: Ockam's 'was not found' wording" {
    ockam node create n1
    run ockam tcp-listener show 127.0.0.1:1 --at n1
    assert_failure 70
    assert_output --partial "TCP listener 127.0.0.1:1 was not found on node n1"
    run ockam tcp-connection delete 0123 --at n1 -y
    assert_failure 70
    assert_output --partial "TCP connection 0123 was not found on node n1"
}

@test "JSON keys Ockam scripts read: node list node_name, tcp-connection create address" {
    ockam node create n1
    ockam node create n2
    run ockam node list --output json
    assert_equal "$(jq -r '[.[].node_name] | sort | join(",")' <<<"$output")" "n1,n2"
    run ockam tcp-connection create --from n1 --to "127.0.0.1:$(node_port n2)" --output json
    assert_success
    c=$(jq -r .address <<<"$output")
    [[ "$c" == /worker/* ]]
    run ockam message send hi --from n1 --to "$c/service/uppercase"
    assert_output "HI"
    run ockam node show nope
    assert_failure 70
    assert_output --partial "The node nope was not found"
}
