#!/usr/bin/env bats
# The control plane is reachable only through api.sock; TCP peers reach only public services,
# and a node connects onward only to destinations on its allow-list.

load helpers

@test "api.sock sits in a 0700 directory and answers the CLI" {
    ockam node create n1
    [ -S "$OCKAM_HOME/nodes/n1/api.sock" ]
    assert_equal "$(stat -c %a "$OCKAM_HOME/nodes/n1")" "700"
    run ockam worker list --at n1
    assert_success
}

@test "the node manager does not answer [_internal.nodemanager] sent over TCP" {
    ockam node create n1
    run ockam message send '{"method":"GET","path":"/node"}' \
        --to /node/n1/service/_internal.nodemanager --timeout 1s
    assert_failure 70
    assert_output --partial "No reply"
    grep -q "flow control denies 0#_internal.nodemanager" "$OCKAM_HOME/nodes/n1/stdout.log"
}

@test "the node manager does not answer [hop, _internal.nodemanager] sent over TCP" {
    ockam node create n1
    run ockam message send '{"method":"GET","path":"/node"}' \
        --to /node/n1/service/hop/service/_internal.nodemanager --timeout 1s
    assert_failure 70
    assert_output --partial "No reply"
}

@test "nor through another node's connection and hop" {
    ockam node create n1
    ockam node create n2
    c=$(ockam tcp-connection create --from n2 --to "127.0.0.1:$(node_port n1)")
    run ockam message send '{"method":"GET","path":"/node"}' --from n2 \
        --to "$c/service/_internal.nodemanager" --timeout 1s
    assert_failure 70
    run ockam message send '{"method":"GET","path":"/node"}' --from n2 \
        --to "$c/service/hop/service/_internal.nodemanager" --timeout 1s
    assert_failure 70
    run ockam message send hello --from n2 --to "$c/service/hop/service/uppercase"
    assert_output "HELLO"
}

@test "a middle node forwards to another node only when its allow-list says so" {
    ockam node create n3
    p3=$(node_port n3)
    ockam node create closed
    run ockam message send hi --to "/node/closed/service/hop/ip4/127.0.0.1/tcp/$p3/service/echo" \
        --timeout 1s
    assert_failure 70
    ockam node create open --allow-outgoing "127.0.0.1:$p3"
    run ockam message send hi --to "/node/open/service/hop/ip4/127.0.0.1/tcp/$p3/service/echo"
    assert_success
    assert_output "hi"
    run ockam message send hi --to "/node/open/service/hop/node/n3/service/uppercase"
    assert_output "HI"
}

@test "a hop started after a connection is reachable through it" {
    ockam node create n1
    ockam node create n2
    ockam node create n3
    c1=$(ockam tcp-connection create --from n1 --to "127.0.0.1:$(node_port n2)")
    c2=$(ockam tcp-connection create --from n2 --to "127.0.0.1:$(node_port n3)")
    ockam service start hop --addr late --at n2
    run ockam message send hello --from n1 --to "$c1/service/late$c2/service/uppercase"
    assert_output "HELLO"
}
