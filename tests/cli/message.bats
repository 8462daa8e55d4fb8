#!/usr/bin/env bats
# message send: temporary node and --from, /node resolution, hops, hex, errors and timeouts.

load helpers

@test "message send to echo prints the reply" {
    ockam node create n1
    run ockam message send hello --to /node/n1/service/echo
    assert_success
    assert_output "hello"
}

@test "message send to uppercase prints HELLO" {
    ockam node create n1
    run ockam message send hello --to /node/n1/service/uppercase
    assert_success
    assert_output "HELLO"
}

@test "message send through one and two hops" {
    ockam node create n1
    run ockam message send hello --to /node/n1/service/hop/service/echo
    assert_output "hello"
    run ockam message send hello --to /node/n1/service/hop/service/hop/service/echo
    assert_output "hello"
}

@test "message send with an explicit ip4/tcp multiaddr" {
    ockam node create n1
    run ockam message send hi --to "/ip4/127.0.0.1/tcp/$(node_port n1)/service/uppercase"
    assert_output "HI"
    run ockam message send hi --to "/dnsaddr/localhost/tcp/$(node_port n1)/service/echo"
    assert_output "hi"
}

@test "message send --hex sends and prints hex" {
    ockam node create n1
    run ockam message send 68656c6c6f --hex --to /node/n1/service/echo
    assert_success
    assert_output "68656c6c6f"
    run ockam message send 6g --hex --to /node/n1/service/echo
    assert_failure 64
    assert_output --partial "not a valid hex string"
}

@test "message send --from asks the node to send" {
    ockam node create n1
    ockam node create n2
    run ockam message send hello --from n1 --to /node/n2/service/uppercase
    assert_success
    assert_output "HELLO"
    run ockam message send hello --from /node/n1 --to /node/n1/service/echo
    assert_output "hello"
}

@test "message send --from to a local worker of that node" {
    ockam node create n1
    run ockam message send hello --from n1 --to /service/hop/service/uppercase
    assert_output "HELLO"
}

@test "connections made for message send --from do not pile up" {
    ockam node create n1
    ockam node create n2
    for i in 1 2 3 4 5; do
        ockam message send "m$i" --from n1 --to /node/n2/service/echo >/dev/null
    done
    run ockam tcp-connection list --at n1 --output json
    assert_equal "$(jq '[.[] | select(.mode=="outgoing")] | length' <<<"$output")" "0"
}

@test "message send to a missing node fails clearly at once" {
    run ockam message send hi --to /node/nope/service/echo
    assert_failure 70
    assert_output --partial "The node nope was not found"
}

@test "message send to a stopped node fails clearly at once" {
    ockam node create n1
    ockam node stop n1
    run ockam message send hi --to /node/n1/service/echo
    assert_failure 70
    assert_output --partial "The node n1 is not running"
    assert_output --partial "ockam node start n1"
}

@test "message send to a missing service fails within the timeout" {
    ockam node create n1
    start=$(date +%s%N)
    run ockam message send hi --to /node/n1/service/nope --timeout 1s
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    assert_failure 70
    assert_output --partial "No reply from /node/n1/service/nope within 1s"
    [ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 4000 ]
}

@test "message send --from to a missing service fails within the timeout" {
    ockam node create n1
    ockam node create n2
    start=$(date +%s%N)
    run ockam message send hi --from n1 --to /node/n2/service/nope --timeout 1s
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    assert_failure 70
    assert_output --partial "No reply from /node/n2/service/nope within 1s"
    [ "$elapsed" -lt 4000 ]
}

@test "message send to a closed port fails with connection refused" {
    closed_port port
    run ockam message send hi --to "/ip4/127.0.0.1/tcp/$port/service/echo" --timeout 5s
    assert_failure 70
    assert_output --partial "Unable to connect to 127.0.0.1:$port"
}

@test "message send with a bad --to, --timeout or --from is a usage error" {
    run ockam message send hi --to not-a-multiaddr
    assert_failure 64
    assert_output --partial "Argument '--to' is invalid"
    run ockam message send hi
    assert_failure 64
    run ockam message send hi --to /service/echo --timeout soon
    assert_failure 64
    run ockam message send
    assert_failure 64
}

@test "message send to a local address without --from explains --from" {
    run ockam message send hi --to /service/echo --timeout 1s
    assert_failure 70
    assert_output --partial "need --from NODE"
}

@test "message send --output json gives the reply in JSON" {
    ockam node create n1
    run ockam message send hello --to /node/n1/service/uppercase --output json
    assert_success
    assert_equal "$(jq -r .reply <<<"$output")" "HELLO"
}

# Wait (at most 10 s) until node $1's log has one more line matching $2 than it had ($3).
wait_log_count() {
    local i
    for i in $(seq 1 200); do
        [ "$(grep -c -- "$2" "$OCKAM_HOME/nodes/$1/stdout.log")" -gt "$3" ] && return 0
        sleep 0.05
    done
    return 1
}

# The command runs while its node dies (kill -9) with the request in flight: it must fail at
# once with a clear error, and the client itself must not leak (the ASan build's LeakSanitizer
# reports on stderr and turns the exit status into 23).
@test "a node killed in the middle of a request: the client fails at once, clearly, without leaks" {
    local i before pid start elapsed st
    # Every "no worker at" line is written at once (no collapsed repeats): the test waits for it.
    export OCKAM_LOG_REPEAT_WINDOW_S=0
    ockam node create n2
    for i in 1 2 3; do
        # --from n1: n1 forwards to n2, where the message finds no worker; n1 waits for a reply.
        ockam node create n1
        pid=$(cat "$OCKAM_HOME/nodes/n1/pid")
        before=$(grep -c "no worker at" "$OCKAM_HOME/nodes/n2/stdout.log" || true)
        start=$(date +%s%N)
        ockam message send hi --from n1 --to /node/n2/service/nope --timeout 20s \
            >"$BATS_TEST_TMPDIR/out" 2>&1 &
        local client=$!
        wait_log_count n2 "no worker at" "$before"
        kill -9 "$pid"
        st=0
        wait "$client" || st=$?
        elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
        run cat "$BATS_TEST_TMPDIR/out"
        refute_output --partial "Sanitizer"
        assert_equal "$st" 70
        assert_output --partial "Node n1 stopped while handling the request"
        [ "$elapsed" -lt 10000 ]
        ockam node delete n1 -y >/dev/null 2>&1 || true

        # Directly from the command's own node, to n3 killed while the message waits there.
        ockam node create n3
        pid=$(cat "$OCKAM_HOME/nodes/n3/pid")
        before=$(grep -c "no worker at" "$OCKAM_HOME/nodes/n3/stdout.log" || true)
        start=$(date +%s%N)
        ockam message send hi --to /node/n3/service/nope --timeout 20s >"$BATS_TEST_TMPDIR/out" 2>&1 &
        client=$!
        wait_log_count n3 "no worker at" "$before"
        kill -9 "$pid"
        st=0
        wait "$client" || st=$?
        elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
        run cat "$BATS_TEST_TMPDIR/out"
        refute_output --partial "Sanitizer"
        assert_equal "$st" 70
        assert_output --partial "The connection closed before a reply from /node/n3/service/nope came"
        [ "$elapsed" -lt 10000 ]
        ockam node delete n3 -y >/dev/null 2>&1 || true
    done
}
