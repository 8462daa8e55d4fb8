#!/usr/bin/env bats
# relay create/list/show/delete: the docs' example, names and outputs, supervision across a
# relay node restart, and restoration by node start.

load helpers

# Wait (at most $2 seconds) until `ockam relay show $1 --at $3` says Up.
wait_relay_up() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        if [ "$(ockam relay show "$1" --at "$3" --output json | jq -r .connection_status)" = Up ]; then
            return 0
        fi
        sleep 0.2
    done
    ockam relay show "$1" --at "$3" --output json >&2
    return 1
}

@test "the docs' relay example: n1 reaches n3's uppercase through n2's relay" {
    ockam node create n2
    ockam node create n3
    ockam node create n1
    run ockam relay create n3 --at /node/n2 --to /node/n3
    assert_success
    assert_output "/service/forward_to_n3"
    run ockam message send hello --from n1 --to /node/n2/service/forward_to_n3/service/uppercase
    assert_success
    assert_output "HELLO"
    run ockam message send hello --to /node/n2/service/forward_to_n3/service/echo
    assert_output "hello"
    # n2 hosts the relay, on the connection n3 opened.
    run ockam node show n2 --output json
    assert_equal "$(jq -r '.relays_served[0].address' <<<"$output")" "forward_to_n3"
}

@test "relay create defaults to the name 'default' and prints JSON fields of docs/cli.md §3.4" {
    ockam node create n2
    ockam node create n3
    ockam relay create --at n2 --to n3
    run ockam relay show --at n3 --output json
    assert_success
    assert_equal "$(jq -r .name <<<"$output")" "default"
    assert_equal "$(jq -r .remote_address <<<"$output")" "/service/forward_to_default"
    assert_equal "$(jq -r .connection_status <<<"$output")" "Up"
    [[ "$(jq -r .worker_address <<<"$output")" == /service/* ]]
    [[ "$(jq -r .relay_route <<<"$output")" == *"=> 0#forward_to_default" ]]
    run ockam message send hi --to /node/n2/service/forward_to_default/service/uppercase
    assert_output "HI"
}

@test "relay list, show and delete; deleting removes the relay on the relay node too" {
    ockam node create n2
    ockam node create n3
    ockam relay create blue --at /node/n2 --to n3
    ockam relay create green --at /node/n2 --to n3
    run ockam relay list --to n3 --output json
    assert_success
    assert_equal "$(jq 'length' <<<"$output")" "2"
    run ockam relay list --to n3
    assert_output --partial "forward_to_blue"
    run ockam relay create blue --at /node/n2 --to n3
    assert_failure 70
    assert_output --partial "A relay with the name 'blue' already exists"
    run ockam relay delete blue --at n3
    assert_failure 70 # no terminal and no --yes
    run ockam relay delete blue --at n3 -y
    assert_success
    assert_output "blue"
    run ockam relay delete blue --at n3 -y
    assert_failure 70
    assert_output --partial "The relay blue was not found"
    run ockam message send hi --to /node/n2/service/forward_to_blue/service/echo --timeout 1s
    assert_failure 70
    run ockam node show n2 --output json
    assert_equal "$(jq -r '[.relays_served[].name] | join(",")' <<<"$output")" "green"
}

@test "a relay created while its relay node is down comes up when the node starts" {
    ockam node create n2
    local port
    port=$(node_port n2)
    ockam node stop n2
    ockam node create n3
    run ockam relay create late --at /ip4/127.0.0.1/tcp/$port --to n3
    assert_success
    assert_output --partial "forward_to_late"
    run ockam relay show late --at n3 --output json
    assert_equal "$(jq -r .connection_status <<<"$output")" "Down"
    [[ "$(jq -r .last_failure <<<"$output")" == *"connection refused"* ]]
    ockam node start n2
    wait_relay_up late 15 n3
    run ockam message send hi --to /node/n2/service/forward_to_late/service/uppercase
    assert_output "HI"
}

@test "the relay is registered again after the relay node is killed and restarted" {
    ockam node create n2
    ockam node create n3
    ockam relay create n3 --at /node/n2 --to n3 --ping-interval 1s
    local pid
    pid=$(ockam node show n2 --output json | jq -r .pid)
    kill -9 "$pid"
    ockam node start n2
    wait_relay_up n3 15 n3
    run ockam relay show n3 --at n3 --output json
    [ "$(jq -r .registrations <<<"$output")" -ge 2 ]
    run ockam message send hi --to /node/n2/service/forward_to_n3/service/uppercase
    assert_output "HI"
    # Logged once as DOWN, once as UP again, whatever the number of retries in between.
    [ "$(grep -c 'relay n3 is DOWN' "$OCKAM_HOME/nodes/n3/stdout.log")" -eq 1 ]
}

@test "node start restores the relays a node registered" {
    ockam node create n2
    ockam node create n3
    ockam relay create n3 --at /node/n2 --to n3
    ockam node stop n3
    ockam node start n3
    run ockam relay list --to n3 --output json
    assert_equal "$(jq -r '.[0].name' <<<"$output")" "n3"
    wait_relay_up n3 15 n3
    run ockam message send hello --to /node/n2/service/forward_to_n3/service/uppercase
    assert_output "HELLO"
}

@test "relay create needs --at and a valid route" {
    ockam node create n3
    run ockam relay create x --to n3
    assert_failure 64
    assert_output --partial "--at"
    run ockam relay create x --at /node/nope --to n3
    assert_failure 70
    assert_output --partial "The node nope was not found"
}
