#!/usr/bin/env bats
# --identity NAME on secure-channel create and secure-channel-listener create: any identity the
# user has, not only the node's. The node loads it (and its keys) from its vault by name; the
# peer authenticates that identifier; show/list name it; node start restores a listener with
# its identity; an unknown name is one line and exit 70; nodes and commands sharing the vault
# keep working while they do; a name deleted and made again is the new identity for new
# channels.

load helpers
load servers

# Nodes are created before the identities of a test: the first identity made becomes the
# default one, which a new node would take as its own.

identifier() {
    ockam node show "$1" --output json | jq -r .identifier
}

@test "secure-channel create --identity alice: the peer authenticates alice, not the node" {
    ockam node create n1
    ockam node create n2
    ockam identity create alice
    local alice
    alice=$(ockam identity show alice)
    [ "$(identifier n1)" != "$alice" ]
    ockam secure-channel-listener create only_alice --at n2 --authorized "$alice"
    run ockam secure-channel create --from n1 --to /node/n2/service/only_alice --identity alice \
        --output json
    assert_success
    local enc
    enc=$(echo "$output" | jq -r .encryptor)
    [ "$(echo "$output" | jq -r .identity)" = alice ]
    [ "$(echo "$output" | jq -r .identifier)" = "$alice" ]
    # The channel works: a message through it reaches n2's echo.
    run ockam message send hi --from n1 --to "$enc/service/echo"
    assert_success
    assert_output "hi"
    run ockam secure-channel show "$enc" --at n1 --output json
    [ "$(echo "$output" | jq -r .identifier)" = "$alice" ]
    [ "$(echo "$output" | jq -r .peer)" = "$(identifier n2)" ]
    run ockam secure-channel list --at n1 --output json
    [ "$(echo "$output" | jq -r '.[0].identity')" = alice ]
    # The node's own identity is refused by that listener. As Ockam's, the listener learns the
    # initiator only from the last handshake message and answers nothing: the channel opens at
    # the initiator, and nothing that goes through it gets a reply.
    run ockam secure-channel create --from n1 --to /node/n2/service/only_alice --output json
    assert_success
    [ "$(echo "$output" | jq -r .identifier)" = "$(identifier n1)" ]
    run ockam message send hi --from n1 --to "$(echo "$output" | jq -r .encryptor)/service/echo" \
        --timeout 2s
    assert_failure 70
    assert_line --index 0 --partial "No reply from"
    # Through the plain api listener, n2's service sees the channel come from alice.
    run ockam secure-channel create --from n1 --to /node/n2/service/api --identity alice
    assert_success
}

@test "secure-channel-listener create --identity bob: initiators authenticate bob" {
    ockam node create n1
    ockam node create n2
    ockam identity create bob
    local bob
    bob=$(ockam identity show bob)
    run ockam secure-channel-listener create lb --at n2 --identity bob --output json
    assert_success
    run ockam secure-channel-listener show lb --at n2 --output json
    [ "$(echo "$output" | jq -r .identity)" = bob ]
    [ "$(echo "$output" | jq -r .identifier)" = "$bob" ]
    run ockam secure-channel-listener list --at n2 --output json
    [ "$(echo "$output" | jq -r '.[] | select(.address == "lb") | .identifier')" = "$bob" ]
    [ "$(echo "$output" | jq -r '.[] | select(.address == "api") | .identifier')" = "$(identifier n2)" ]
    run ockam secure-channel create --from n1 --to /node/n2/service/lb --authorized "$bob" \
        --output json
    assert_success
    [ "$(echo "$output" | jq -r .peer)" = "$bob" ]
    # Expecting anyone else at lb (n2's own identity) fails.
    run ockam secure-channel create --from n1 --to /node/n2/service/lb \
        --authorized "$(identifier n2)" --timeout 3s
    assert_failure 70
    assert_output --partial "not among the authorized identifiers"
    [ "${#lines[@]}" -eq 1 ]
}

@test "an unknown identity name: one line, exit 70, saying how to create it" {
    ockam node create n1
    run ockam secure-channel create --from n1 --to /node/n1/service/api --identity nobody
    assert_failure 70
    [ "${#lines[@]}" -eq 1 ]
    assert_output --partial "ockam identity create nobody"
    run ockam secure-channel-listener create l --at n1 --identity nobody
    assert_failure 70
    [ "${#lines[@]}" -eq 1 ]
    assert_output --partial "ockam identity create nobody"
    # The node loads the identity itself: one it cannot sign with (imported, no key here) is
    # its error, one line too.
    ockam identity create alice
    ockam vault create v2
    ockam identity create imported --vault v2 --identity "$(ockam identity show alice --encoding hex)"
    run ockam secure-channel-listener create l --at n1 --identity imported
    assert_failure 70
    [ "${#lines[@]}" -eq 1 ]
    assert_output --partial "has no key here"
    run ockam secure-channel-listener list --at n1 --output json
    [ "$(echo "$output" | jq -r 'map(.address) | join(",")')" = api ]
}

@test "node stop + node start restores a listener with its identity" {
    ockam node create n1
    ockam node create n2
    ockam identity create bob
    local bob
    bob=$(ockam identity show bob)
    ockam secure-channel-listener create lb --at n2 --identity bob
    # While a node's listener uses it, bob cannot be deleted.
    run ockam identity delete bob --yes
    assert_failure 70
    assert_output --partial "used by node n2"
    assert_output --partial "secure channel listeners that present this identity"
    ockam node stop n2
    ockam node start n2
    run ockam secure-channel-listener show lb --at n2 --output json
    assert_success
    [ "$(echo "$output" | jq -r .identifier)" = "$bob" ]
    run ockam secure-channel create --from n1 --to /node/n2/service/lb --authorized "$bob"
    assert_success
    run ockam message send hi --from n1 --to /node/n2/secure/lb/service/echo
    assert_output "hi"
}

@test "two nodes and the command share one vault: identities load while others use it" {
    ockam node create n1
    ockam node create n2
    ockam identity create alice
    ockam identity create bob
    local alice bob
    alice=$(ockam identity show alice)
    bob=$(ockam identity show bob)
    # Both nodes load identities of the default vault (where theirs are) at once.
    ockam secure-channel-listener create la --at n2 --identity alice &
    local p1=$!
    ockam secure-channel-listener create lb --at n1 --identity bob &
    local p2=$!
    wait "$p1"
    wait "$p2"
    # The vault is not held by the nodes: the command can still create keys in it.
    ockam identity create carol
    run ockam secure-channel create --from n1 --to /node/n2/service/la --identity carol \
        --authorized "$alice" --output json
    assert_success
    [ "$(echo "$output" | jq -r .identifier)" = "$(ockam identity show carol)" ]
    run ockam secure-channel create --from n2 --to /node/n1/service/lb --identity alice \
        --authorized "$bob" --output json
    assert_success
    [ "$(echo "$output" | jq -r .peer)" = "$bob" ]
}

@test "a node waits (without blocking) while another process holds the identity's vault file" {
    ockam node create n1
    ockam identity create bob
    local path
    path=$(ockam vault show --output json | jq -r .path)
    # Another process holds the vault's lock for half a second; the listener is created once
    # it lets go (the node retries on a timer, up to 2 s).
    mkfifo "$BATS_TEST_TMPDIR/held"
    flock -x "$path.lock" -c "echo >'$BATS_TEST_TMPDIR/held'; sleep 0.5" &
    local holder=$!
    read -r <"$BATS_TEST_TMPDIR/held"
    run ockam secure-channel-listener create lb --at n1 --identity bob --output json
    wait "$holder"
    assert_success
    [ "$(echo "$output" | jq -r .identifier)" = "$(ockam identity show bob)" ]
}

@test "an identity deleted and made again: new channels get the new one, not the copy a node holds" {
    ockam node create n1
    ockam node create n2
    ockam identity create alice
    local old new enc
    old=$(ockam identity show alice)
    run ockam secure-channel create --from n1 --to /node/n2/service/api --identity alice \
        --output json
    assert_success
    enc=$(echo "$output" | jq -r .encryptor)
    [ "$(echo "$output" | jq -r .identifier)" = "$old" ]
    # The channel stays open (n1 keeps its copy of alice for it); the name goes.
    ockam identity delete alice -y
    run ockam secure-channel create --from n1 --to /node/n2/service/api --identity alice
    assert_failure 70
    assert_output --partial "no identity named alice"
    ockam identity create alice
    new=$(ockam identity show alice)
    [ "$new" != "$old" ]
    run ockam secure-channel create --from n1 --to /node/n2/service/api --identity alice \
        --output json
    assert_success
    [ "$(echo "$output" | jq -r .identifier)" = "$new" ]
    # The first channel still works, as the old alice.
    run ockam message send hi --from n1 --to "$enc/service/echo"
    assert_output "hi"
    run ockam secure-channel show "$enc" --at n1 --output json
    [ "$(echo "$output" | jq -r .identifier)" = "$old" ]
}

@test "tcp-inlet create --identity alice --authorized ID: the channel is alice's, to that listener only; node start keeps both" {
    mkdir -p "$BATS_TEST_TMPDIR/www"
    echo "only for alice" >"$BATS_TEST_TMPDIR/www/small.txt"
    start_http "$BATS_TEST_TMPDIR/www"
    ockam node create n1
    ockam node create n2
    ockam identity create alice
    local alice n2id to=/node/n2/secure/api/service/web
    alice=$(ockam identity show alice)
    n2id=$(identifier n2)
    ockam tcp-outlet create --at n2 --from web --to "127.0.0.1:$HTTP_PORT" --allow "$alice"
    ockam tcp-inlet create --at n1 --alias a --to "$to" --identity alice --authorized "$n2id"
    ockam tcp-inlet create --at n1 --alias own --to "$to" --no-connection-wait
    ockam identity create bob
    ockam tcp-inlet create --at n1 --alias other --to "$to" --identity alice \
        --authorized "$(ockam identity show bob)" --no-connection-wait
    run curl -sS --max-time 20 "http://$(inlet_addr a n1)/small.txt"
    assert_output "only for alice"
    # The node's own identity is refused by the outlet; a listener that is not the authorized
    # one (n2 is not bob) is never used.
    run curl -sS --max-time 5 "http://$(inlet_addr own n1)/small.txt"
    assert_failure
    run curl -sS --max-time 5 "http://$(inlet_addr other n1)/small.txt"
    assert_failure
    # Errors: an identity that does not exist; an identity without a channel in the route.
    run ockam tcp-inlet create --at n1 --alias x --to "$to" --identity nobody
    assert_failure 70
    assert_output --partial "no identity named nobody"
    run ockam tcp-inlet create --at n1 --alias y --to /node/n2/service/web --identity alice
    assert_failure 70
    assert_output --partial "need a secure channel in the route"
    # node start brings the inlet back with its identity and authorized list.
    ockam node stop n1
    ockam node start n1
    local deadline=$((SECONDS + 15)) ok=
    while [ $SECONDS -lt $deadline ]; do
        if [ "$(curl -sS --max-time 2 "http://$(inlet_addr a n1)/small.txt" 2>/dev/null)" = "only for alice" ]; then
            ok=1
            break
        fi
        sleep 0.2
    done
    [ -n "$ok" ]
    run curl -sS --max-time 5 "http://$(inlet_addr other n1)/small.txt"
    assert_failure
}
