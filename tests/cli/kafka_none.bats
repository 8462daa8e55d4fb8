#!/usr/bin/env bats
# An `ockam` built without the Kafka transport (cmake -DOCKAM_WITH_KAFKA=OFF): every Kafka
# option and command fails with one clear error, and everything else works as usual.

load helpers

NOT_BUILT="This ockam was built without the Kafka transport."

@test "node create with a Kafka option fails at once and leaves nothing behind" {
    run ockam node create k1 --kafka-bootstrap 127.0.0.1:9092 --kafka-inbox k1.inbox
    assert_failure 70
    assert_output --partial "$NOT_BUILT"
    assert_output --partial "-DOCKAM_WITH_KAFKA=ON"
    run ockam node list --output json
    assert_output "[]"
}

@test "kafka-transport show says the transport is not built" {
    ockam node create n1
    run ockam kafka-transport show --at n1
    assert_failure 70
    assert_output --partial "$NOT_BUILT"
}

@test "a route that starts with /kafka says the transport is not built" {
    ockam node create n1
    run ockam message send hi --from n1 --to /kafka/ockam.n3.inbox/service/echo
    assert_failure 70
    assert_output --partial "$NOT_BUILT"
    run ockam message send hi --to /kafka/ockam.n3.inbox/service/echo
    assert_failure 70
    assert_output --partial "$NOT_BUILT"
}

@test "a node without Kafka reports no Kafka transport and serves as usual" {
    ockam node create n1
    run ockam node show n1 --output json
    assert_success
    assert_equal "$(echo "$output" | jq -c .kafka)" "null"
    run ockam message send hello --to /node/n1/service/uppercase
    assert_success
    assert_output "HELLO"
}
