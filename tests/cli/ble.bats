#!/usr/bin/env bats
# BLE in the ockam command (issue 15): --ble-controller / --ble-listener-name, ble-connection,
# /ble/NAME multiaddrs, and BLE -> UDP -> TCP routes across real node processes, on BlueZ's
# controller emulator (btvirt -s, one per test, in a private directory; the LD_PRELOAD shim
# gives it the AF_ALG sockets this kernel lacks and moves its sockets out of /tmp).

load helpers

setup() {
    command -v btvirt >/dev/null || skip "btvirt (Debian bluez-test-tools) is not installed"
    OCKAM_HOME=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ockam-bats.XXXXXX")
    export OCKAM_HOME
    export NO_COLOR=1
    BTDIR=$(mktemp -d /tmp/ockam-btvirt.XXXXXX)
    mkfifo "$BTDIR/ready"
    # SIGPIPE ignored: btvirt writes to clients that may just have gone (a killed node).
    (trap '' PIPE; BTVIRT_DIR=$BTDIR BTVIRT_READY_FD=7 LD_PRELOAD=${BTVIRT_SHIM:?} \
        exec btvirt -s 7>"$BTDIR/ready" >/dev/null 2>&1) &
    BTPID=$!
    local c
    read -r -t 10 -n 1 c <"$BTDIR/ready"
    [ "$c" = L ]
    CTL="unix:$BTDIR/bt-server-le"
}

teardown_after_nodes() {
    [ -n "${BTPID:-}" ] && kill "$BTPID" 2>/dev/null && wait "$BTPID" 2>/dev/null || true
    rm -rf "$BTDIR"
}

@test "the issue's sequence: /ble/b1 alone, then BLE -> UDP -> TCP (port 0 for 6000, 7000)" {
    # The far end first: each node binds port 0, and the node before it is allowed out to the
    # port read back.
    ockam node create t1 --tcp-listener-address 127.0.0.1:0
    p7=$(node_port t1)
    ockam node create u1 --udp-listener-address 127.0.0.1:0 --allow-outgoing "127.0.0.1:$p7"
    p6=$(udp_port u1)
    run ockam node create b1 --ble-controller "$CTL" --ble-listener-name b1 \
        --allow-outgoing "127.0.0.1:$p6"
    assert_success
    ockam node create c1 --ble-controller "$CTL"
    run ockam message send hello --from c1 --to /ble/b1/service/uppercase
    assert_success
    assert_output "HELLO"
    run ockam message send hello --from c1 \
        --to "/ble/b1/service/hop/ip4/127.0.0.1/udp/$p6/service/hop/ip4/127.0.0.1/tcp/$p7/service/uppercase"
    assert_success
    assert_output "HELLO"
    # c1 opened one link to b1 and reused it; b1 accepted it.
    assert_equal "$(ockam node show c1 --output json | jq -r '.ble_connections | length')" 1
    assert_equal "$(ockam node show c1 --output json | jq -r '.ble_connections[0].peer')" b1
    assert_equal "$(ockam node show b1 --output json | jq -r '.ble_connections[0].direction')" incoming
    assert_equal "$(ockam node show b1 --output json | jq -r '.ble_listener_name')" b1
}

@test "ble-connection create prints /worker/<hex>; list, show, delete" {
    ockam node create b1 --ble-controller "$CTL" --ble-listener-name b1
    ockam node create c1 --ble-controller "$CTL"
    run ockam ble-connection create --from c1 --to b1
    assert_success
    assert_output --regexp '^/worker/[0-9a-f]{32}$'
    c=$output
    run ockam message send "over ble" --from c1 --to "$c/service/echo"
    assert_output "over ble"
    run ockam ble-connection list --at c1 --output json
    assert_equal "$(echo "$output" | jq -r '.[0].route')" "$c"
    run ockam ble-connection show "$c" --at c1 --output json
    assert_success
    assert_equal "$(echo "$output" | jq -r '.peer + " " + .state')" "b1 up"
    run ockam ble-connection delete "$c" --at c1 -y
    assert_success
    run ockam ble-connection show "$c" --at c1
    assert_failure
    # Without a controller the command says what is missing.
    ockam node create plain
    run ockam ble-connection create --from plain --to b1
    assert_failure
    assert_output --partial "no BLE controller"
    run ockam node create bad --ble-listener-name x
    assert_failure 64
    # Something that is not a controller is a startup error, and the name stays free.
    run ockam node create bad --ble-controller "unix:$BTDIR/nothing-here"
    assert_failure 70
    assert_output --partial "Cannot open the BLE controller"
    # A socket that answers nothing: the controller never initialises.
    local ready
    exec {ready}< <(python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("L", flush=True)
time.sleep(30)' "$BTDIR/silent" 3>&-)
    silent=$!
    read -r -t 10 -u "$ready" c
    [ "$c" = L ]
    run ockam node create bad --ble-controller "unix:$BTDIR/silent"
    kill "$silent"
    exec {ready}<&-
    assert_failure 70
    assert_output --partial "did not initialise"
}

@test "node start brings BLE back; a node killed abruptly is reconnected to when it returns" {
    ockam node create b1 --ble-controller "$CTL" --ble-listener-name b1
    ockam node create c1 --ble-controller "$CTL"
    run ockam message send one --from c1 --to /ble/b1/service/echo
    assert_output "one"
    pid=$(ockam node show b1 --output json | jq -r .pid)
    kill -9 "$pid"
    # c1 notices: its link goes within the heartbeat timeout (5 s by default).
    for _ in $(seq 1 80); do
        n=$(ockam node show c1 --output json | jq -r '.ble_connections | length')
        [ "$n" = 0 ] && break
        sleep 0.1
    done
    assert_equal "$n" 0
    run ockam node start b1
    assert_success
    run ockam message send two --from c1 --to /ble/b1/service/echo
    assert_success
    assert_output "two"
}

@test "TCP -> BLE: a hop opens a BLE link for a remote message only when ble:NAME is allowed" {
    ockam node create b1 --ble-controller "$CTL" --ble-listener-name b1
    ockam node create n2 --ble-controller "$CTL"
    ockam node create n3 --ble-controller "$CTL" --allow-outgoing ble:b1
    # From a temporary node in this process: the message reaches n2 and n3 over TCP.
    run ockam message send hello --timeout 2s --to /node/n2/service/hop/ble/b1/service/uppercase
    assert_failure
    assert_equal "$(ockam node show n2 --output json | jq -r '.ble_connections | length')" 0
    grep -q "refusing to connect to b1" "$OCKAM_HOME/nodes/n2/stdout.log"
    run ockam message send hello --to /node/n3/service/hop/ble/b1/service/uppercase
    assert_success
    assert_output "HELLO"
    run ockam node create bad --allow-outgoing ble:
    assert_failure 64
}
