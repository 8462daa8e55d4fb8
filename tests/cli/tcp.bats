#!/usr/bin/env bats
# tcp-listener and tcp-connection: create, list, show, delete.

load helpers

@test "tcp-listener create, list, show and delete" {
    ockam node create n1
    run ockam tcp-listener create 127.0.0.1:0 --at n1
    assert_success
    assert_output --regexp '^/dnsaddr/localhost/tcp/[0-9]+$'
    port=${output##*/}
    run ockam message send hi --to "/ip4/127.0.0.1/tcp/$port/service/echo"
    assert_output "hi"
    run ockam tcp-listener list --at n1
    assert_equal "$(jq length <<<"$output")" "2"
    id=$(jq -r '.[] | select(.main==false) | .id' <<<"$output")
    run ockam tcp-listener show "$id" --at n1
    assert_success
    assert_equal "$(jq -r .address <<<"$output")" "127.0.0.1:$port"
    run ockam tcp-listener show "127.0.0.1:$port" --at n1
    assert_success
    run ockam tcp-listener delete "127.0.0.1:$port" --at n1 </dev/null
    assert_failure 70
    run ockam tcp-listener delete "127.0.0.1:$port" --at n1 -y
    assert_success
    assert_output "127.0.0.1:$port"
    run ockam message send hi --to "/ip4/127.0.0.1/tcp/$port/service/echo" --timeout 2s
    assert_failure 70
    run ockam tcp-listener show "$id" --at n1
    assert_failure 70
    assert_output --partial "TCP listener $id was not found on node n1"
}

@test "tcp-listener create on a taken address fails with the reason" {
    ockam node create n1
    port=$(node_port n1)
    run ockam tcp-listener create "127.0.0.1:$port" --at n1
    assert_failure 70
    assert_output --partial "127.0.0.1:$port is already in use"
    run ockam tcp-listener create nonsense --at n1
    assert_failure 64
}

@test "the main listener cannot be deleted" {
    ockam node create n1
    run ockam tcp-listener delete "127.0.0.1:$(node_port n1)" --at n1 -y
    assert_failure 70
    assert_output --partial "main listener"
}

@test "tcp-listener create makes a default node when there is none" {
    run ockam tcp-listener create 127.0.0.1:0
    assert_success
    run ockam node list --output json
    assert_equal "$(jq length <<<"$output")" "1"
    assert_equal "$(jq -r '.[0].is_default' <<<"$output")" "true"
}

@test "tcp-connection create prints /worker/<hex>; list, show and delete it" {
    ockam node create n1
    ockam node create n2
    run ockam tcp-connection create --from n1 --to "127.0.0.1:$(node_port n2)"
    assert_success
    assert_output --regexp '^/worker/[0-9a-f]{32}$'
    c1=$output
    run ockam message send hello --from n1 --to "$c1/service/uppercase"
    assert_output "HELLO"
    run ockam tcp-connection list --at n1
    assert_equal "$(jq -r '.[0].route' <<<"$output")" "$c1"
    assert_equal "$(jq -r '.[0].mode' <<<"$output")" "outgoing"
    run ockam tcp-connection list --at n2
    assert_equal "$(jq -r '.[0].mode' <<<"$output")" "incoming"
    run ockam tcp-connection show "$c1" --at n1
    assert_success
    assert_equal "$(jq -r .peer <<<"$output")" "127.0.0.1:$(node_port n2)"
    run ockam tcp-connection delete "$c1" --at n1 -y
    assert_success
    assert_output "$c1"
    run ockam tcp-connection show "$c1" --at n1
    assert_failure 70
    assert_output --partial "was not found on node n1"
}

@test "tcp-connection list in a terminal: Ockam's lines, none ending in a space" {
    ockam node create n1
    ockam node create n2
    ockam tcp-connection create --from n1 --to "127.0.0.1:$(node_port n2)" >/dev/null
    # script(1) gives the command a terminal and ends its lines with CR LF.
    out=$(script -qec "$OCKAM tcp-connection list --at n2" /dev/null | tr -d '\r')
    grep -q -E ' TCP, Incoming from 127\.0\.0\.1:[0-9]+$' <<<"$out"
    out=$(script -qec "$OCKAM tcp-connection list --at n1" /dev/null | tr -d '\r')
    grep -q -E " TCP, Outgoing to 127\.0\.0\.1:$(node_port n2) \(created by you\)$" <<<"$out"
    run grep -c ' $' <<<"$out"
    assert_output "0"
}

@test "tcp-connection create to a closed port fails with the reason" {
    ockam node create n1
    closed_port port
    run ockam tcp-connection create --from n1 --to "127.0.0.1:$port"
    assert_failure 70
    assert_output --partial "Unable to connect to 127.0.0.1:$port"
    run ockam tcp-connection create --from n1 --to nonsense
    assert_failure 64
    run ockam tcp-connection create --from n1
    assert_failure 64
}
