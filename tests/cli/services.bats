#!/usr/bin/env bats
# service start hop / service list / worker list.

load helpers

@test "service start hop with --addr starts a new hop" {
    ockam node create n1
    run ockam service start hop --addr h1 --at n1
    assert_success
    assert_output --partial "/service/h1"
    run ockam message send hello --to /node/n1/service/h1/service/echo
    assert_output "hello"
}

@test "service start hop without --addr on the default hop says it already runs" {
    ockam node create n2
    run ockam service start hop --at n2
    assert_success
    assert_output --partial "/service/hop"
    run ockam service start hop --at n2 --output json
    assert_success
    assert_equal "$(jq -r .created <<<"$output")" "false"
    assert_equal "$(jq -r .addr <<<"$output")" "hop"
}

@test "service start hop with an --addr that is taken fails clearly" {
    ockam node create n1
    run ockam service start hop --addr echo --at n1
    assert_failure 70
    assert_output --partial "The address echo is already used by the echo service on node n1"
    ockam service start hop --addr h1 --at n1
    run ockam service start hop --addr h1 --at n1
    assert_failure 70
    assert_output --partial "already used by the hop service"
    run ockam service start hop --addr hop --at n1
    assert_failure 70
}

@test "service start uses the default node and refuses other services" {
    ockam node create n1
    run ockam service start hop --addr h2
    assert_success
    run ockam service start echo
    assert_failure 64
    assert_output --partial "Only the hop service can be started"
}

@test "service start on a missing or stopped node fails clearly" {
    run ockam service start hop --at nope
    assert_failure 70
    assert_output --partial "The node nope was not found"
    ockam node create n1
    ockam node stop n1
    run ockam service start hop --at n1
    assert_failure 70
    assert_output --partial "The node n1 is not running"
}

@test "service list shows echo, uppercase and the hops" {
    ockam node create n1
    ockam service start hop --addr h1 --at n1
    run ockam service list --at n1
    assert_success
    assert_equal "$(jq -r 'map(.addr + ":" + .type) | join(",")' <<<"$output")" \
        "echo:echo,uppercase:uppercase,hop:hop,h1:hop"
}

@test "worker list includes the node manager and the services" {
    ockam node create n1
    run ockam worker list --at n1 --output json
    assert_success
    for w in _internal.nodemanager echo uppercase hop; do
        jq -e --arg w "$w" 'map(.addr) | index($w)' <<<"$output" >/dev/null
    done
}
