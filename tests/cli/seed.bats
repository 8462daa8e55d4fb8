#!/usr/bin/env bats
# The seed sequence of the issue, verbatim, with port 0 instead of 7000 and 8000 (the ports the
# nodes got are read back for the connections).

load helpers

@test "the seed sequence works exactly as shown" {
    run ockam node create n1
    assert_success
    run ockam message send hello --to /node/n1/service/echo
    assert_output "hello"
    run ockam message send hello --to /node/n1/service/hop/service/echo
    assert_output "hello"
    run ockam message send hello --to /node/n1/service/hop/service/hop/service/echo
    assert_output "hello"
    run ockam service start hop --addr h1 --at n1
    assert_success
    run ockam message send hello --to /node/n1/service/h1/service/echo
    assert_output "hello"
    run ockam node create n2 --tcp-listener-address 127.0.0.1:0
    assert_success
    p2=$(node_port n2)
    run ockam node create n3 --tcp-listener-address 127.0.0.1:0
    assert_success
    p3=$(node_port n3)
    run ockam service start hop --at n2
    assert_success
    run ockam tcp-connection create --from n1 --to "127.0.0.1:$p2"
    assert_success
    assert_output --regexp '^/worker/[0-9a-f]{32}$'
    c1=$output
    run ockam tcp-connection create --from n2 --to "127.0.0.1:$p3"
    assert_success
    c2=$output
    run ockam message send hello --from n1 --to "$c1/service/hop$c2/service/uppercase"
    assert_success
    assert_output "HELLO"
    run ockam node delete --all -y
    assert_success
    run ockam node list --output json
    assert_output "[]"
}
