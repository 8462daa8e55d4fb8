#!/usr/bin/env bats
# Identities, vaults and secure channels in the ockam command: /secure/ in routes is a channel
# or an error (never a plain hop), the seed sequence of docs/cli.md (relay, outlet, secure
# channel, inlet) with python3 -m http.server and curl (100 MiB each way), authorized
# identifiers both ways, identity export/import, a channel over UDP, a recording TCP proxy in
# front of the relay node that sees the text only without a channel, inlets whose far node,
# relay node or own node restarts, a relay through a channel after its relay node restarts,
# outlets and relays for some identities only.

load helpers
load servers

# scripts/record_proxy.py in front of 127.0.0.1:$1: it appends what it forwards to $2.up
# (towards the node) and $2.down (back). Sets PROXY_PORT, the first line it prints.
start_recording_proxy() {
    local port_fifo="$BATS_TEST_TMPDIR/proxy.port"
    mkfifo "$port_fifo"
    python3 "$BATS_TEST_DIRNAME/../../scripts/record_proxy.py" "$1" "$2" >"$port_fifo" 2>/dev/null &
    SERVERS+=($!)
    read -r PROXY_PORT <"$port_fifo"
}

identifier() {
    ockam node show "$1" --output json | jq -r .identifier
}

# Until client's "hi" comes back from server's echo through relay forward_to_server at node
# relay, for at most $1 seconds (each attempt waits $2 for the reply).
echo_through_relay_within() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(ockam message send hi --from client --timeout "$2" \
            --to /node/relay/service/forward_to_server/service/echo 2>/dev/null)" = hi ] && return 0
    done
    return 1
}

# The seed sequence: relay, server_sidecar (outlet to the HTTP server, relay at relay),
# client_sidecar; sets HTTP_PORT and serves $BATS_TEST_TMPDIR/www.
seed_nodes() {
    mkdir -p "$BATS_TEST_TMPDIR/www"
    echo "hello through a secure channel" >"$BATS_TEST_TMPDIR/www/small.txt"
    start_http "$BATS_TEST_TMPDIR/www"
    ockam node create relay
    ockam node create server_sidecar
    ockam tcp-outlet create --at /node/server_sidecar --to "127.0.0.1:$HTTP_PORT"
    ockam relay create server_sidecar --at /node/relay --to /node/server_sidecar
    ockam node create client_sidecar
}

@test "/secure/NAME is a channel or an error, never the plain hop 0#NAME" {
    ockam node create n1
    ockam node create n2
    # As a plain hop, /secure/echo would reach the echo service and come back: it must not.
    run ockam message send hi --from n1 --to /node/n2/secure/echo --timeout 2s
    assert_failure 70
    run ockam message send hi --to /node/n2/secure/nope/service/echo --timeout 1s
    assert_failure 70
    assert_output --partial "handshake timed out"
    [ "${#lines[@]}" -eq 1 ]
    # The channel's handshake and the message do work through the node's listener at api.
    run ockam message send hi --from n1 --to /node/n2/secure/api/service/echo
    assert_success
    assert_output "hi"
    run ockam message send hi --to /node/n2/secure/api/service/uppercase
    assert_success
    assert_output "HI"
}

@test "node show has the identity and the secure channel listener at api; node start restores them" {
    ockam node create n1
    run ockam node show n1 --output json
    assert_output --partial '"identifier": "I'
    [ "$(echo "$output" | jq -r '.secure_channel_listeners[0].address')" = api ]
    [ "$(echo "$output" | jq -r .identifier)" = "$(ockam identity show)" ]
    ockam secure-channel-listener create l2 --at n1
    ockam node stop n1
    ockam node start n1
    run ockam secure-channel-listener list --at n1 --output json
    [ "$(echo "$output" | jq -r '[.[].address] | sort | join(",")')" = "api,l2" ]
    ockam node create n2
    run ockam message send hi --from n2 --to /node/n1/secure/l2/service/echo
    assert_output "hi"
}

@test "the seed sequence: secure channel through the relay, inlet to the outlet, curl" {
    seed_nodes
    run ockam secure-channel create --from /node/client_sidecar \
        --to /node/relay/service/forward_to_server_sidecar/service/api
    assert_success
    [[ "$output" =~ ^/service/[0-9a-f]{32}$ ]]
    local enc=$output
    ockam tcp-inlet create --at /node/client_sidecar --from 127.0.0.1:0 --alias web \
        --to "$enc/service/outlet"
    local inlet
    inlet=$(inlet_addr web client_sidecar)
    run curl -sS --max-time 20 "http://$inlet/small.txt"
    assert_success
    assert_output "hello through a secure channel"
    # The channel is listed at the client, with the server's identifier as its peer.
    run ockam secure-channel list --at client_sidecar --output json
    [ "$(echo "$output" | jq -r '.[0].encryptor')" = "$enc" ]
    [ "$(echo "$output" | jq -r '.[0].peer')" = "$(identifier server_sidecar)" ]
    run ockam secure-channel delete "$enc" --at client_sidecar -y
    assert_success
    run ockam secure-channel list --at client_sidecar --output json
    assert_output "[]"
}

@test "secure-channel create | tcp-inlet create --to -/service/outlet (the route from stdin)" {
    seed_nodes
    ockam secure-channel create --from /node/client_sidecar \
        --to /node/relay/service/forward_to_server_sidecar/service/api \
        | ockam tcp-inlet create --at /node/client_sidecar --from 127.0.0.1:0 --alias web \
            --to -/service/outlet
    local inlet
    inlet=$(inlet_addr web client_sidecar)
    run curl -sS --max-time 20 "http://$inlet/small.txt"
    assert_output "hello through a secure channel"
}

@test "100 MiB down and up through an inlet with /secure/api in its route, identical SHA-256" {
    seed_nodes
    head -c $((100 * 1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/www/big.bin"
    start_upload_server
    ockam tcp-outlet create --at server_sidecar --to "127.0.0.1:$UP_PORT" --from up
    local to=/node/relay/service/forward_to_server_sidecar/secure/api/service
    ockam tcp-inlet create --at client_sidecar --from 127.0.0.1:0 --alias web --to "$to/outlet"
    ockam tcp-inlet create --at client_sidecar --from 127.0.0.1:0 --alias up --to "$to/up"
    local web up
    web=$(inlet_addr web client_sidecar)
    up=$(inlet_addr up client_sidecar)
    curl -sS --max-time 120 -o "$BATS_TEST_TMPDIR/got.bin" "http://$web/big.bin"
    assert_equal "$(sha "$BATS_TEST_TMPDIR/got.bin")" "$(sha "$BATS_TEST_TMPDIR/www/big.bin")"
    run curl -sS --max-time 120 -T "$BATS_TEST_TMPDIR/www/big.bin" "http://$up/up"
    assert_output "$(sha "$BATS_TEST_TMPDIR/www/big.bin")"
}

@test "authorized identifiers: the right one is accepted, any other refused, both ways" {
    ockam identity create alice
    ockam identity create bob
    local alice bob
    alice=$(ockam identity show alice)
    bob=$(ockam identity show bob)
    ockam node create server --identity alice
    ockam node create client --identity bob
    # Initiator side: the listener must be alice.
    run ockam secure-channel create --from client --to /node/server/service/api --authorized "$alice"
    assert_success
    run ockam secure-channel create --from client --to /node/server/service/api \
        --authorized "$bob" --timeout 3s
    assert_failure 70
    assert_output --partial "not among the authorized identifiers"
    [ "${#lines[@]}" -eq 1 ]
    # Listener side: only bob may open a channel to "only_bob"; carol is refused.
    ockam secure-channel-listener create only_bob --at server --authorized "$bob"
    run ockam message send hi --from client --to /node/server/secure/only_bob/service/echo
    assert_output "hi"
    ockam identity create carol
    ockam node create other --identity carol
    run ockam message send hi --from other --to /node/server/secure/only_bob/service/echo \
        --timeout 2s
    assert_failure 70
    assert_line --index 0 --partial "may not authorize this node's identity"
    run ockam secure-channel-listener create bad --at server --authorized Inothex
    assert_failure 64
}

@test "identity export and import round trip; vault show; delete refused while a node uses it" {
    ockam identity create alice
    local hex id
    hex=$(ockam identity show alice --encoding hex)
    id=$(ockam identity show alice)
    [[ "$id" =~ ^I[0-9a-f]{64}$ ]]
    run ockam identity create imported --identity "$hex"
    assert_success
    assert_output "$id"
    [ "$(ockam identity show imported --encoding hex)" = "$hex" ]
    run ockam identity show alice --full
    assert_line --index 0 "Identifier: $id"
    assert_output --partial "Change[0]:"
    assert_output --partial "primary_public_key: EdDSACurve25519:"
    # A different last byte (of the signature) must not verify.
    local last=${hex: -2} other=00
    [ "$last" != 00 ] || other=01
    run ockam identity create bad --identity "${hex%??}$other"
    assert_failure 70
    run ockam vault show --output json
    [ "$(echo "$output" | jq -r .use_aws_kms)" = "No" ]
    [ "$(echo "$output" | jq -r .name)" = default ]
    # The vault file holds secrets: 0600 in a 0700 directory.
    local path
    path=$(echo "$output" | jq -r .path)
    [ "$(stat -c %a "$path")" = 600 ]
    [ "$(stat -c %a "$(dirname "$path")")" = 700 ]
    ockam node create n1 --identity alice
    run ockam identity delete alice --yes
    assert_failure 70
    assert_output --partial "used by node n1"
    ockam node delete n1 -y
    run ockam identity delete alice --yes
    assert_success
    run ockam identity list --output json
    [ "$(echo "$output" | jq -r '[.[].name] | join(",")')" = "default,imported" ] \
        || [ "$(echo "$output" | jq -r '[.[].name] | join(",")')" = "imported" ]
}

@test "a secure channel over UDP" {
    ockam node create n2 --udp-listener-address 127.0.0.1:0
    ockam node create n1
    local udp
    udp=$(ockam node show n2 --output json | jq -r .udp_listener_address)
    run ockam message send hi --from n1 --to "/ip4/127.0.0.1/udp/${udp##*:}/secure/api/service/uppercase"
    assert_success
    assert_output "HI"
}

@test "a recording proxy in front of the relay node sees the text only without a channel" {
    ockam node create relay
    ockam node create server
    ockam relay create server --at /node/relay --to /node/server
    ockam node create client
    local log="$BATS_TEST_TMPDIR/proxy"
    start_recording_proxy "$(node_port relay)" "$log"
    local via="/ip4/127.0.0.1/tcp/$PROXY_PORT/service/forward_to_server"
    run ockam message send the-secret-words --from client --to "$via/secure/api/service/echo"
    assert_output "the-secret-words"
    [ -s "$log.up" ] && [ -s "$log.down" ]
    ! grep -q "the-secret-words" "$log.up" "$log.down"
    # The same message without the channel crosses the proxy in clear: the check can fail.
    run ockam message send the-secret-words --from client --to "$via/service/echo"
    assert_output "the-secret-words"
    grep -q "the-secret-words" "$log.up"
}

@test "the server side stops and starts: the inlet's channel comes back, curl works within 15 s" {
    seed_nodes
    ockam tcp-inlet create --at client_sidecar --from 127.0.0.1:0 --alias web \
        --to /node/relay/service/forward_to_server_sidecar/secure/api/service/outlet
    local inlet
    inlet=$(inlet_addr web client_sidecar)
    run curl -sS --max-time 20 "http://$inlet/small.txt"
    assert_output "hello through a secure channel"
    ockam node stop server_sidecar
    run curl -sS --max-time 3 "http://$inlet/small.txt"
    assert_failure
    ockam node start server_sidecar
    local deadline=$((SECONDS + 15)) ok=
    while [ $SECONDS -lt $deadline ]; do
        if [ "$(curl -sS --max-time 2 "http://$inlet/small.txt" 2>/dev/null)" = "hello through a secure channel" ]; then
            ok=1
            break
        fi
        sleep 0.2
    done
    [ -n "$ok" ]
}

@test "an outlet with --allow: only inlets through a channel of an allowed identity connect" {
    mkdir -p "$BATS_TEST_TMPDIR/www"
    echo "only for alice" >"$BATS_TEST_TMPDIR/www/small.txt"
    start_http "$BATS_TEST_TMPDIR/www"
    ockam identity create alice
    ockam identity create bob
    ockam node create server
    ockam node create alice_node --identity alice
    ockam node create bob_node --identity bob
    ockam tcp-outlet create --at server --to "127.0.0.1:$HTTP_PORT" --allow "$(ockam identity show alice)"
    run ockam tcp-outlet create --at server --to "127.0.0.1:$HTTP_PORT" --from bad --allow Ibad
    assert_failure 70
    local to=/node/server/secure/api/service/outlet
    ockam tcp-inlet create --at alice_node --from 127.0.0.1:0 --alias web --to "$to"
    ockam tcp-inlet create --at bob_node --from 127.0.0.1:0 --alias web --to "$to"
    ockam tcp-inlet create --at alice_node --from 127.0.0.1:0 --alias plain --to /node/server/service/outlet
    local a b p
    a=$(inlet_addr web alice_node)
    b=$(inlet_addr web bob_node)
    p=$(inlet_addr plain alice_node)
    run curl -sS --max-time 20 "http://$a/small.txt"
    assert_output "only for alice"
    run curl -sS --max-time 5 "http://$b/small.txt"
    assert_failure
    # Plaintext (no channel), even from alice's node: refused.
    run curl -sS --max-time 5 "http://$p/small.txt"
    assert_failure
    # The restriction survives node stop/start.
    ockam node stop server
    ockam node start server
    run ockam tcp-outlet show outlet --at server --output json
    [ "$(echo "$output" | jq -r '.allow[0]')" = "$(ockam identity show alice)" ]
}

@test "the relay node restarts, then the client node: the inlet's channel comes back each time" {
    seed_nodes
    ockam tcp-inlet create --at client_sidecar --from 127.0.0.1:0 --alias web \
        --to /node/relay/service/forward_to_server_sidecar/secure/api/service/outlet
    local inlet
    inlet=$(inlet_addr web client_sidecar)
    run curl -sS --max-time 20 "http://$inlet/small.txt"
    assert_output "hello through a secure channel"
    curl_until_ok() {
        local deadline=$((SECONDS + 15))
        while [ $SECONDS -lt $deadline ]; do
            [ "$(curl -sS --max-time 2 "http://$inlet/small.txt" 2>/dev/null)" = "hello through a secure channel" ] && return 0
            sleep 0.2
        done
        return 1
    }
    ockam node stop relay
    ockam node start relay
    curl_until_ok
    # The client side: node start restores the inlet (same port) and its /secure/ route.
    ockam node stop client_sidecar
    ockam node start client_sidecar
    curl_until_ok
    run ockam tcp-inlet show web --at client_sidecar --output json
    [ "$(echo "$output" | jq -r .to)" = "/ip4/127.0.0.1/tcp/$(node_port relay)/service/forward_to_server_sidecar/secure/api/service/outlet" ]
}

@test "a relay registered through a secure channel, only at an authorized relay node" {
    ockam identity create relay_id
    ockam identity create someone_else
    ockam node create relay --identity relay_id
    ockam node create server
    ockam node create client
    run ockam relay create server --at /node/relay/secure/api --to /node/server \
        --authorized "$(ockam identity show relay_id)"
    assert_success
    assert_output "/service/forward_to_server"
    [ "$(ockam relay show server --at server --output json | jq -r .connection_status)" = Up ]
    run ockam message send hi --from client --to /node/relay/service/forward_to_server/service/echo
    assert_output "hi"
    run ockam message send hi --from client \
        --to /node/relay/service/forward_to_server/secure/api/service/uppercase
    assert_output "HI"
    # Another identity at the relay node: the relay never comes up.
    ockam relay create other --at /node/relay/secure/api --to /node/server \
        --authorized "$(ockam identity show someone_else)" --no-connection-wait
    run ockam message send hi --from client --to /node/relay/service/forward_to_other/service/echo \
        --timeout 2s
    assert_failure 70
    [ "$(ockam relay show other --at server --output json | jq -r .connection_status)" = Down ]
    # --authorized without a channel is refused.
    run ockam relay create plain --at /node/relay --to /node/server \
        --authorized "$(ockam identity show relay_id)"
    assert_failure 70
    # node start brings the relay back through its channel.
    ockam node stop server
    ockam node start server
    echo_through_relay_within 15 2s
}

@test "a relay registered through a secure channel is back within seconds of its relay node's restart" {
    ockam node create relay
    ockam node create server
    ockam node create client
    # Pings once a minute: waiting for three of them to fail would take three minutes.
    ockam relay create server --at /node/relay/secure/api --to /node/server --ping-interval 60s
    run ockam message send hi --from client --to /node/relay/service/forward_to_server/service/echo
    assert_output "hi"
    ockam node stop relay
    ockam node start relay
    # The channel is made again once the relay node stops answering through it (about 3 s),
    # and the relay registers again at once.
    echo_through_relay_within 15 1s
    [ "$(ockam relay show server --at server --output json | jq -r .connection_status)" = Up ]
}

@test "node create --relay-allow: only that identity registers relays, through a channel; node start keeps it" {
    ockam identity create alice
    ockam identity create bob
    local alice
    alice=$(ockam identity show alice)
    run ockam node create bad --relay-allow Ibad
    assert_failure 64
    ockam node create relay --relay-allow "$alice"
    ockam node create a_node --identity alice
    ockam node create b_node --identity bob
    ockam node create client
    [ "$(ockam node show relay --output json | jq -r '.relay_allow | join(",")')" = "$alice" ]
    # Alice through a channel: accepted, and messages flow through her relay.
    run ockam relay create a --at /node/relay/secure/api --to /node/a_node --ping-interval 500ms
    assert_success
    assert_output "/service/forward_to_a"
    run ockam message send hi --from client --to /node/relay/service/forward_to_a/service/echo
    assert_output "hi"
    # Bob through a channel: refused in one line, exit 70, nothing left behind.
    run ockam relay create b --at /node/relay/secure/api --to /node/b_node
    assert_failure 70
    [ "${#lines[@]}" -eq 1 ]
    assert_output --partial "Failed to create relay at /node/relay with name b. The relay node refused the registration: this identity is not allowed to register relays on this node"
    [ "$(ockam relay list --to b_node --output json | jq length)" = 0 ]
    # Alice in plaintext: refused too.
    run ockam relay create p --at /node/relay --to /node/a_node
    assert_failure 70
    assert_output --partial "accepts relay registrations only through a secure channel"
    [ "$(ockam node show relay --output json | jq -c '[.relays_served[].name]')" = '["a"]' ]
    # The restriction survives node stop/start; alice's relay comes back.
    ockam node stop relay
    ockam node start relay
    [ "$(ockam node show relay --output json | jq -r '.relay_allow | join(",")')" = "$alice" ]
    run ockam relay create b --at /node/relay/secure/api --to /node/b_node
    assert_failure 70
    assert_output --partial "not allowed to register relays"
    # (A relay through a channel notices the restart by its pings, then its channel's checks.)
    local deadline=$((SECONDS + 30)) ok=
    while [ $SECONDS -lt $deadline ]; do
        if [ "$(ockam message send hi --from client --to /node/relay/service/forward_to_a/service/echo --timeout 2s 2>/dev/null)" = hi ]; then
            ok=1
            break
        fi
    done
    [ -n "$ok" ]
    # "secure": any identity, but only through a channel.
    ockam node create relay2 --relay-allow secure
    run ockam relay create b --at /node/relay2/secure/api --to /node/b_node
    assert_success
    run ockam message send hi --from client --to /node/relay2/service/forward_to_b/service/echo
    assert_output "hi"
    run ockam relay create p --at /node/relay2 --to /node/b_node
    assert_failure 70
    assert_output --partial "only through a secure channel"
    # "secure" with identifiers: only those (as tcp-outlet create --allow).
    ockam node create relay3 --relay-allow secure --relay-allow "$alice"
    run ockam relay create b3 --at /node/relay3/secure/api --to /node/b_node
    assert_failure 70
    assert_output --partial "not allowed to register relays"
    run ockam relay create a3 --at /node/relay3/secure/api --to /node/a_node
    assert_success
}
