#!/usr/bin/env bats
# The Kafka transport in the ockam command (issue 7): node create --kafka-*, /kafka hops in
# message send, the Kafka part of node show, node start re-attaching the transport, and the
# security rules across a Kafka hop. Each test that needs Kafka starts its own librdkafka mock
# cluster (tests/kafka/kafka_mock.c, a real Kafka protocol server on loopback) and stops it in
# teardown. The first message after start-up waits for the consumer groups to form (1-3 s on
# the mock): first sends get a generous --timeout instead of sleeps.

load helpers

KAFKA_MOCK=${KAFKA_MOCK:?set KAFKA_MOCK to the built kafka_mock}

# The README's mock: a coprocess, so its stdin stays open (EOF would end it) and its first line,
# BOOTSTRAP=host:port, can be read as soon as the topics exist. fd 3 is bats' own: not for it.
start_mock() {
    coproc MOCK { exec "$KAFKA_MOCK" ockam.n2.inbox ockam.n3.inbox 3>&-; }
    local line
    read -r -t 30 line <&"${MOCK[0]}"
    BS=${line#BOOTSTRAP=}
    [ -n "$BS" ] && [ "$BS" != "$line" ]
}

# Called by helpers.bash's teardown once the nodes are stopped (they leave their consumer
# groups while the mock still answers).
teardown_after_nodes() {
    if [ -n "${MOCK_PID:-}" ]; then
        kill -TERM "$MOCK_PID" 2>/dev/null || true
        wait "$MOCK_PID" 2>/dev/null || true
    fi
}

# The README's worked example up to the first message: n1 -TCP-> n2 -Kafka-> n3 -TCP-> n4.
# Extra arguments go to n3 (the restart test shortens its group session timeout).
readme_nodes() {
    ockam node create n4 --tcp-listener-address 127.0.0.1:0
    P4=$(node_port n4)
    ockam node create n3 --kafka-bootstrap "$BS" --kafka-inbox ockam.n3.inbox \
        -X consumer.fetch.wait.max.ms=5 --allow-outgoing "127.0.0.1:$P4" "$@"
    ockam node create n2 --kafka-bootstrap "$BS" --kafka-inbox ockam.n2.inbox \
        --kafka-allow ockam.n3.inbox -X consumer.fetch.wait.max.ms=5
    ockam node create n1
}

ROUTE=/node/n2/kafka/ockam.n3.inbox/node/n4/service/uppercase

# A field of a node's Kafka view.
kafka_field() { # node jq-path
    "$OCKAM" node show "$1" --output json | jq -r ".kafka$2"
}

@test "the README's worked example: n1 -TCP-> n2 -Kafka-> n3 -TCP-> n4 (uppercase)" {
    start_mock
    readme_nodes
    run ockam message send hello --from n1 --to "$ROUTE" --timeout 30s
    assert_success
    assert_output "HELLO"
    # Reply from n3's services straight through the Kafka hop, too.
    run ockam message send hi --from n1 --to /node/n2/kafka/ockam.n3.inbox/service/echo
    assert_output "hi"
}

@test "20 messages in a row through the Kafka hop all come back, in order" {
    start_mock
    readme_nodes
    run ockam message send warm-up --from n1 --to "$ROUTE" --timeout 30s
    assert_output "WARM-UP"
    for i in $(seq 1 20); do
        run ockam message send "message $i" --from n1 --to "$ROUTE"
        assert_success
        assert_output "MESSAGE $i"
    done
}

@test "node show and kafka-transport show report the Kafka transport and its counters" {
    start_mock
    readme_nodes
    run ockam message send one --from n1 --to "$ROUTE" --timeout 30s
    assert_output "ONE"
    run ockam message send two --from n1 --to "$ROUTE"
    assert_output "TWO"
    # n2 produced both requests and consumed both replies; n3 the other way round.
    run ockam node show n2 --output json
    assert_success
    k=$(jq -c .kafka <<<"$output")
    assert_equal "$(jq -r .bootstrap_servers <<<"$k")" "$BS"
    assert_equal "$(jq -r .inbox_topic <<<"$k")" "ockam.n2.inbox"
    assert_equal "$(jq -r .group_id <<<"$k")" "ockam.ockam.n2.inbox"
    assert_equal "$(jq -c .allowed_outgoing <<<"$k")" '["ockam.n3.inbox"]'
    assert_equal "$(jq -c .properties <<<"$k")" '["consumer.fetch.wait.max.ms=5"]'
    [ "$(jq -r .flow_control_id <<<"$k")" -gt 0 ]
    assert_equal "$(jq -c '.stats | [.produced, .delivered, .delivery_failed]' <<<"$k")" "[2,2,0]"
    assert_equal "$(jq -c '.stats | [.consumed, .routed, .bad_records]' <<<"$k")" "[2,2,0]"
    assert_equal "$(jq -r .stats.assigned_partitions <<<"$k")" "1"
    run ockam kafka-transport show --at n3 --output json
    assert_success
    assert_equal "$(jq -c '.stats | [.consumed, .produced, .bad_records]' <<<"$output")" "[2,2,0]"
    # The plain view is for terminals.
    run script -qec "$OCKAM node show n3" /dev/null
    assert_output --partial "  Kafka transport:"
    assert_output --partial "    Inbox topic ockam.n3.inbox, consumer group ockam.ockam.n3.inbox"
    assert_output --partial "2 consumed, 2 routed, 0 bad"
    # Nodes without Kafka say so.
    assert_equal "$(kafka_field n1 '')" "null"
    run ockam kafka-transport show --at n1
    assert_failure 70
    assert_output --partial "Node n1 has no Kafka transport."
}

@test "node stop and node start of n3 bring its Kafka transport back" {
    start_mock
    # Re-joining a group waits for the old member's session to time out on the mock
    # (docs/wire.md §11.5): keep that short for the restarted n3.
    readme_nodes -X consumer.session.timeout.ms=6000
    run ockam message send before --from n1 --to "$ROUTE" --timeout 30s
    assert_output "BEFORE"
    run ockam node stop n3
    assert_success
    assert_equal "$(kafka_field n3 .stats)" "null"
    run ockam node start n3
    assert_success
    run ockam message send after --from n1 --to "$ROUTE" --timeout 60s
    assert_success
    assert_output "AFTER"
    assert_equal "$(kafka_field n3 .inbox_topic)" "ockam.n3.inbox"
    assert_equal "$(kafka_field n3 .properties[1])" "consumer.session.timeout.ms=6000"
    [ "$(kafka_field n3 .stats.routed)" -ge 1 ]
}

@test "through Kafka a node's public services are reachable, its node manager is not" {
    start_mock
    readme_nodes
    # A route may start with /kafka when it is sent from a node with the Kafka transport.
    run ockam message send hi --from n2 --to /kafka/ockam.n3.inbox/service/uppercase --timeout 30s
    assert_success
    assert_output "HI"
    run ockam message send hi --from n1 --to /node/n2/kafka/ockam.n3.inbox/service/hop/service/echo \
        --timeout 30s
    assert_output "hi"
    consumed=$(kafka_field n3 .stats.consumed)
    run ockam message send '{"method":"GET","path":"/node"}' --from n1 \
        --to /node/n2/kafka/ockam.n3.inbox/service/_internal.nodemanager --timeout 2s
    assert_failure
    assert_output --partial "No reply"
    run ockam message send '{"method":"GET","path":"/node"}' --from n1 \
        --to /node/n2/kafka/ockam.n3.inbox/service/hop/service/_internal.nodemanager --timeout 2s
    assert_failure
    assert_output --partial "No reply"
    # Both requests did reach n3 through its inbox; flow control dropped them there.
    assert_equal "$(kafka_field n3 .stats.consumed)" "$((consumed + 2))"
}

@test "n2 produces messages from other nodes only to the topics it allows" {
    start_mock
    readme_nodes
    run ockam message send hi --from n1 --to "$ROUTE" --timeout 30s
    assert_output "HI"
    produced=$(kafka_field n2 .stats.produced)
    # ockam.n2.inbox is not on n2's --kafka-allow list: n1's message is dropped at n2.
    run ockam message send hi --from n1 --to /node/n2/kafka/ockam.n2.inbox/service/echo --timeout 2s
    assert_failure
    assert_output --partial "No reply"
    assert_equal "$(kafka_field n2 .stats.produced)" "$produced"
    grep -q "topic ockam.n2.inbox is not allowed" "$OCKAM_HOME/nodes/n2/stdout.log"
}

@test "a route that starts with /kafka needs --from a node with the Kafka transport" {
    run ockam message send hi --to /kafka/ockam.n3.inbox/service/echo
    assert_failure 64
    assert_output --partial "A route cannot start with /kafka without --from"
    ockam node create n1
    run ockam message send hi --from n1 --to /kafka/ockam.n3.inbox/service/echo
    assert_failure 70
    assert_output --partial "Node n1 has no Kafka transport"
}

@test "node create reports Kafka startup errors at once and leaves nothing behind" {
    run ockam node create k1 --kafka-bootstrap 127.0.0.1:9092
    assert_failure 70
    assert_output --partial "The Kafka transport needs an inbox topic."
    run ockam node create k1 --kafka-inbox k1.inbox
    assert_failure 70
    assert_output --partial "The Kafka transport needs bootstrap servers."
    run ockam node create k1 --kafka-bootstrap 127.0.0.1:9092,localhost --kafka-inbox k1.inbox
    assert_failure 70
    assert_output --partial "'127.0.0.1:9092,localhost' is not a valid list of Kafka bootstrap servers."
    run ockam node create k1 --kafka-bootstrap 127.0.0.1:9092 --kafka-inbox 'k1 inbox'
    assert_failure 70
    assert_output --partial "'k1 inbox' is not a valid Kafka inbox topic."
    run ockam node create k1 --kafka-bootstrap 127.0.0.1:9092 --kafka-inbox k1.inbox \
        --kafka-allow 'no/such/topic'
    assert_failure 70
    assert_output --partial "'no/such/topic' is not a valid topic for --kafka-allow."
    run ockam node create k1 --kafka-bootstrap 127.0.0.1:9092 --kafka-inbox k1.inbox \
        -X no.such.property=1
    assert_failure 70
    assert_output --partial "The Kafka client refused its configuration: property no.such.property"
    run ockam node create k1 --kafka-bootstrap 127.0.0.1:9092 --kafka-inbox k1.inbox -X fetch.wait
    assert_failure 70
    assert_output --partial "The Kafka property 'fetch.wait' is not key=value."
    run ockam node list --output json
    assert_output "[]"
}

@test "node show hides the values of security properties" {
    # Nothing listens at the bootstrap address: the node starts anyway (Kafka connects in the
    # background) and shows its configuration.
    local closed
    closed_port closed
    run ockam node create k1 --kafka-bootstrap "127.0.0.1:$closed" --kafka-inbox k1.inbox \
        -X sasl.username=alice -X sasl.password=hunter2 -X consumer.ssl.key.password=swordfish \
        -X client.id=k1
    assert_success
    run script -qec "$OCKAM node show k1" /dev/null
    assert_output --partial "Properties: sasl.username=<hidden>, sasl.password=<hidden>"
    run ockam node show k1 --output json
    assert_equal "$(jq -c .kafka.properties <<<"$output")" \
        '["sasl.username=<hidden>","sasl.password=<hidden>","consumer.ssl.key.password=<hidden>","client.id=k1"]'
    refute_output --partial hunter2
    refute_output --partial swordfish
}

@test "a secure channel from n1 to n4 across n1 -TCP-> n2 -Kafka-> n3 -TCP-> n4" {
    start_mock
    readme_nodes
    run ockam message send warm-up --from n1 --to "$ROUTE" --timeout 30s
    assert_output "WARM-UP"
    run ockam message send the-secret-words --from n1 --timeout 30s \
        --to /node/n2/kafka/ockam.n3.inbox/node/n4/secure/api/service/uppercase
    assert_success
    assert_output "THE-SECRET-WORDS"
    # The channel's peer is n4's identity; the channel was made by n1 and is closed after.
    run ockam secure-channel create --from n1 --timeout 30s \
        --to /node/n2/kafka/ockam.n3.inbox/node/n4/service/api
    assert_success
    [[ "$output" =~ ^/service/[0-9a-f]{32}$ ]]
}
