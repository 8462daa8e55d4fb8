#!/usr/bin/env bats
# TCP portals with real applications: python3 -m http.server behind an outlet and curl through an
# inlet (one hop, and through a relay), 100 MiB each way with identical SHA-256, 100 concurrent
# curls, errors, restoration by node start, a relay node killed during traffic, the outlet node
# killed during a download behind a relay or a hop node, or killed and started again (the client
# gets a reset), and network namespaces where only the relay node is reachable from both ends.

load helpers
load servers

make_files() {
    mkdir -p "$BATS_TEST_TMPDIR/www"
    head -c $((100 * 1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/www/big.bin"
    echo "hello through a portal" >"$BATS_TEST_TMPDIR/www/small.txt"
}

# 100 MiB down and up through the inlet at port $1; identical SHA-256 both ways.
check_big_transfers() {
    local got="$BATS_TEST_TMPDIR/got.bin"
    curl -sS --max-time 120 -o "$got" "http://127.0.0.1:$1/big.bin"
    assert_equal "$(sha "$got")" "$(sha "$BATS_TEST_TMPDIR/www/big.bin")"
    rm -f "$got"
    local up
    up=$(curl -sS --max-time 120 -T "$BATS_TEST_TMPDIR/www/big.bin" "http://127.0.0.1:$2/up")
    assert_equal "$up" "$(sha "$BATS_TEST_TMPDIR/www/big.bin")"
}

# 100 curls at once through port $1; every one gets small.txt.
check_concurrent() {
    local i pids=() dir="$BATS_TEST_TMPDIR/many"
    mkdir -p "$dir"
    for i in $(seq 1 100); do
        curl -sS --max-time 60 -o "$dir/$i" "http://127.0.0.1:$1/small.txt" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i"
    done
    for i in $(seq 1 100); do
        cmp -s "$dir/$i" "$BATS_TEST_TMPDIR/www/small.txt" || {
            echo "curl $i got something else" >&2
            return 1
        }
    done
}

inlet_conns() {
    ockam tcp-inlet show web --at "$1" --output json | jq .connections
}

workers() {
    ockam worker list --at "$1" --output json | jq length
}

node_pid() {
    ockam node show "$1" --output json | jq -r .pid
}

fds() {
    ls "/proc/$1/fd" | wc -l
}

# Wait (at most $3 s) until command $1 (a function name) with argument $2 prints $4.
wait_equal() {
    local deadline=$((SECONDS + $3)) v
    while [ $SECONDS -lt $deadline ]; do
        v=$("$1" "$2")
        [ "$v" = "$4" ] && return 0
        sleep 0.2
    done
    echo "$1 $2: $v, expected $4" >&2
    return 1
}

# One hop: outlets on n1 (web, up), inlets on n2 at WEB_PORT and UP_INLET (the ports n2 got).
one_hop() {
    make_files
    start_http "$BATS_TEST_TMPDIR/www"
    start_upload_server
    ockam node create n1
    ockam node create n2
    ockam tcp-outlet create --at n1 --from web --to "127.0.0.1:$HTTP_PORT"
    ockam tcp-outlet create --at n1 --from up --to "$UP_PORT"
    create_inlet WEB_PORT --at n2 --from 0 --to /node/n1/service/web --alias web
    create_inlet UP_INLET --at n2 --from 127.0.0.1:0 --to /node/n1/service/up --alias up
}

@test "curl through an inlet gets exactly what the server sends" {
    make_files
    start_http "$BATS_TEST_TMPDIR/www"
    ockam node create n1
    ockam node create n2
    run ockam tcp-outlet create --at n1 --to "127.0.0.1:$HTTP_PORT"
    assert_success
    assert_output "/service/outlet"
    # The inlet listens where the kernel puts it; it prints the address it got.
    run ockam tcp-inlet create --at n2 --from 127.0.0.1:0 --to /node/n1/service/outlet
    assert_success
    assert_output --regexp '^127\.0\.0\.1:[1-9][0-9]*$'
    local port=${output##*:}
    curl -sS -o "$BATS_TEST_TMPDIR/direct" "http://127.0.0.1:$HTTP_PORT/"
    curl -sS -o "$BATS_TEST_TMPDIR/portal" "http://127.0.0.1:$port/"
    cmp "$BATS_TEST_TMPDIR/direct" "$BATS_TEST_TMPDIR/portal"
    run ockam tcp-inlet list --at n2 --output json
    assert_equal "$(jq -r '.[0].status' <<<"$output")" "Up"
    assert_equal "$(jq -r '.[0].bind_addr' <<<"$output")" "127.0.0.1:$port"
}

@test "100 MiB download and upload through one hop keep their SHA-256" {
    one_hop
    check_big_transfers "$WEB_PORT" "$UP_INLET"
}

@test "100 concurrent curls through one hop" {
    one_hop
    local before
    before=$(workers n1)
    check_concurrent "$WEB_PORT"
    run ockam tcp-outlet show web --at n1 --output json
    assert_equal "$(jq -r .accepted <<<"$output")" "100"
    # Every connection is closed on both sides, and its workers are gone after their linger.
    wait_equal inlet_conns n2 10 0
    wait_equal workers n1 10 "$before"
}

# Through a relay: the outlets on n3, which registers relay n3 at n2; the inlets on n1.
via_relay() {
    make_files
    start_http "$BATS_TEST_TMPDIR/www"
    start_upload_server
    ockam node create n2
    ockam node create n3
    ockam node create n1
    ockam relay create n3 --at /node/n2 --to n3 ${1:+--ping-interval "$1"}
    ockam tcp-outlet create --at n3 --from web --to "127.0.0.1:$HTTP_PORT"
    ockam tcp-outlet create --at n3 --from up --to "127.0.0.1:$UP_PORT"
    create_inlet WEB_PORT --at n1 --from 0 --alias web \
        --to /node/n2/service/forward_to_n3/service/web
    create_inlet UP_INLET --at n1 --from 0 --alias up \
        --to /node/n2/service/forward_to_n3/service/up
}

@test "through a relay: 100 MiB both ways and 100 concurrent curls" {
    via_relay
    check_big_transfers "$WEB_PORT" "$UP_INLET"
    check_concurrent "$WEB_PORT"
}

@test "a target that refuses: the client is closed at once, the outlet says why" {
    ockam node create n1
    ockam node create n2
    local dead inlet
    closed_port dead
    ockam tcp-outlet create --at n1 --to "$dead"
    create_inlet inlet --at n2 --from 0 --to /node/n1/service/outlet
    run curl -sS --max-time 5 "http://127.0.0.1:$inlet/"
    assert_failure 52 # empty reply: closed cleanly, not a timeout (28) or a reset (56)
    run ockam tcp-outlet show outlet --at n1 --output json
    [[ "$(jq -r .last_error <<<"$output")" == *"cannot connect to 127.0.0.1:$dead: connection refused"* ]]
    run ockam tcp-outlet show outlet --at n1
    assert_output --partial "connection refused"
}

@test "an outlet whose target host cannot be reached reports it" {
    ockam node create n1
    ockam node create n2
    ockam tcp-outlet create --at n1 --to no-such-host.invalid:80
    local inlet
    create_inlet inlet --at n2 --from 0 --to /node/n1/service/outlet
    run curl -sS --max-time 15 "http://127.0.0.1:$inlet/"
    assert_failure 52
    run ockam tcp-outlet show outlet --at n1 --output json
    assert_equal "$(jq -r .last_error <<<"$output")" \
        "cannot connect to no-such-host.invalid:80: unknown node or service"
    grep -q "cannot connect to no-such-host.invalid:80" "$OCKAM_HOME/nodes/n1/stdout.log"
}

@test "tcp-outlet and tcp-inlet list, show, delete and their errors" {
    ockam node create n1
    run ockam tcp-outlet create --at n1 --to 5000
    assert_output "/service/outlet"
    run ockam tcp-outlet create --at n1 --to 5001
    assert_output --regexp '^/service/[0-9a-f]{32}$'  # later outlets: a random address
    run ockam tcp-outlet create --at n1 --from /service/db --to 127.0.0.1:5432
    assert_output "/service/db"
    run ockam tcp-outlet create --at n1 --from db --to 127.0.0.1:5432
    assert_failure 70
    assert_output --partial "A TCP outlet with address 'db' already exists"
    run ockam tcp-outlet list --at n1 --output json
    assert_equal "$(jq -r '[.[].to] | sort | join(",")' <<<"$output")" \
        "127.0.0.1:5000,127.0.0.1:5001,127.0.0.1:5432"
    run ockam tcp-outlet delete db --at n1 -y
    assert_success
    assert_output "db"
    run ockam tcp-outlet show db --at n1
    assert_failure 70
    local p
    create_inlet p --at n1 --from 0 --to /node/n1/service/outlet --alias a1
    # The port a1 holds, on purpose: a second inlet there must be refused.
    run ockam tcp-inlet create --at n1 --from "$p" --to /node/n1/service/outlet --alias a2
    assert_failure 70
    assert_output --partial "already listening on 127.0.0.1:$p"
    run ockam tcp-inlet create --at n1 --to /node/n1/service/outlet --alias a1
    assert_failure 70
    assert_output --partial "alias 'a1' already exists"
    run ockam tcp-inlet create --at n1 --to outlet
    assert_failure 64
    run ockam tcp-inlet show a1 --at n1 --output json
    assert_equal "$(jq -r .outlet_route <<<"$output")" "1#$(ockam node show n1 --output json | jq -r .tcp_listener_address) => 0#outlet"
    run ockam tcp-inlet delete a1 --at n1 -y
    assert_output "a1"
    run ockam tcp-inlet list --at n1 --output json
    assert_output "[]"
}

@test "node start restores outlets and inlets" {
    make_files
    start_http "$BATS_TEST_TMPDIR/www"
    ockam node create n1
    ockam node create n2
    ockam tcp-outlet create --at n1 --to "$HTTP_PORT"
    local port
    create_inlet port --at n2 --from 0 --to /node/n1/service/outlet --alias web \
        --ping-interval 2s
    ockam node stop n1
    ockam node stop n2
    ockam node start n1
    ockam node start n2
    # Back on the port the kernel gave it at create: the node keeps the bound address so that
    # clients find the inlet where they found it before (the one port taken again on purpose).
    run ockam tcp-inlet show web --at n2 --output json
    assert_equal "$(jq -r .bind_addr <<<"$output")" "127.0.0.1:$port"
    # The probe period comes back too (it decides how soon a dead route resets connections).
    assert_equal "$(jq -r '.inlets[0].ping_interval_ms' "$OCKAM_HOME/nodes/n2/config.json")" 2000
    run curl -sS --max-time 20 "http://127.0.0.1:$port/small.txt"
    assert_output "hello through a portal"
}

@test "kill -9 of the relay node during traffic: traffic resumes within 15 s, nothing leaks" {
    via_relay 1s
    curl -sS --max-time 10 -o /dev/null "http://127.0.0.1:$WEB_PORT/small.txt"
    local p1 p3 w1 w3 f1 f3
    p1=$(node_pid n1)
    p3=$(node_pid n3)
    sleep 2.5 # the first curl's portal workers linger 2 s
    w1=$(workers n1)
    w3=$(workers n3)
    f1=$(fds "$p1")
    f3=$(fds "$p3")
    # Traffic: a download running while the relay node dies.
    curl -sS --max-time 60 --limit-rate 2M -o /dev/null "http://127.0.0.1:$WEB_PORT/big.bin" &
    local dl=$!
    sleep 1
    kill -9 "$(node_pid n2)"
    if wait "$dl"; then
        echo "the download was not cut" >&2
        false
    fi
    ockam node start n2
    local start=$SECONDS ok=""
    while [ $((SECONDS - start)) -lt 15 ]; do
        if curl -sS --max-time 3 -o "$BATS_TEST_TMPDIR/after" "http://127.0.0.1:$WEB_PORT/small.txt" 2>/dev/null &&
            cmp -s "$BATS_TEST_TMPDIR/after" "$BATS_TEST_TMPDIR/www/small.txt"; then
            ok=yes
            break
        fi
        sleep 0.5
    done
    [ -n "$ok" ] || {
        ockam relay show n3 --at n3 >&2
        false
    }
    echo "traffic resumed after $((SECONDS - start)) s" >&3
    run ockam relay show n3 --at n3 --output json
    assert_equal "$(jq -r .connection_status <<<"$output")" "Up"
    # No leaked workers or sockets on n1 and n3 once the portal workers' linger is over.
    wait_equal workers n1 10 "$w1"
    wait_equal workers n3 10 "$w3"
    wait_equal fds "$p1" 10 "$f1"
    wait_equal fds "$p3" 10 "$f3"
}

# A download through the inlet at $WEB_PORT (alias web on n1, probing every second) is under
# way when node $1, the outlet's, is killed: curl fails with a reset (56) within 15 s, never a
# clean short end and never a hang; the inlet is DOWN and has no connection left.
download_cut_by_kill() {
    local rc=0
    start_slow_download "$WEB_PORT"
    kill -9 "$(node_pid "$1")"
    local start=$SECONDS
    wait "$DL_PID" || rc=$?
    local took=$((SECONDS - start)) size
    size=$(stat -c %s "$DL_GOT")
    echo "curl exit $rc after $took s with $size bytes: $(cat "$DL_ERR")" >&3
    assert_equal "$rc" 56 # a reset; 18 would be a clean short end, 124 a hang
    [ "$took" -le 15 ]
    [ "$size" -lt $((100 * 1024 * 1024)) ]
    run ockam tcp-inlet show web --at n1 --output json
    assert_equal "$(jq -r .status <<<"$output")" "Down"
    wait_equal inlet_conns n1 10 0
}

# The slow server behind outlet web on n3, which registers relay n3 at n2; the inlet web on n1
# at $WEB_PORT reaches the outlet through that relay and probes every $1.
relayed_slow_portal() {
    start_slow_server
    ockam node create n2
    ockam node create n3
    ockam node create n1
    ockam relay create n3 --at /node/n2 --to n3
    ockam tcp-outlet create --at n3 --from web --to "127.0.0.1:$SLOW_PORT"
    create_inlet WEB_PORT --at n1 --from 0 --alias web --ping-interval "$1" \
        --to /node/n2/service/forward_to_n3/service/web
}

@test "kill -9 of the outlet node behind a relay during a download: the client gets a reset" {
    relayed_slow_portal 1s
    download_cut_by_kill n3
}

@test "kill -9 of the outlet node behind a hop node during a download: the client gets a reset" {
    start_slow_server
    ockam node create n3
    ockam node create n2 --allow-outgoing "127.0.0.1:$(node_port n3)"
    ockam node create n1
    ockam tcp-outlet create --at n3 --from web --to "127.0.0.1:$SLOW_PORT"
    create_inlet WEB_PORT --at n1 --from 0 --alias web --ping-interval 1s \
        --to "/node/n2/service/hop/node/n3/service/web"
    download_cut_by_kill n3
}

@test "the outlet node behind a relay killed and started again at once: the client gets a reset" {
    relayed_slow_portal 2s
    local rc=0
    start_slow_download "$WEB_PORT"
    kill -9 "$(node_pid n3)"
    local start=$SECONDS
    ockam node start n3 # its relay and outlet come back; the probe answers again
    wait "$DL_PID" || rc=$?
    local took=$((SECONDS - start))
    local how="the probe"
    grep -q "no longer has this connection" "$OCKAM_HOME/nodes/n1/stdout.log" && how="a Gone answer"
    echo "curl exit $rc after $took s (reset after $how): $(cat "$DL_ERR")" >&3
    assert_equal "$rc" 56
    [ "$took" -le 15 ]
    # The portal works through the new node (the first 64 KiB of a new download).
    local n
    n=$(timeout 20 curl -sS "http://127.0.0.1:$WEB_PORT/" 2>/dev/null | head -c 65536 | wc -c)
    assert_equal "$n" 65536
    wait_equal inlet_conns n1 10 0
}

@test "network namespaces: n1 and n3 cannot reach each other; the portal works through n2" {
    [ "$(id -u)" = 0 ] || skip "network namespaces need root (CAP_SYS_ADMIN)"
    command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
    local ns1=ockp1-$$ ns3=ockp3-$$ v1=opa$$ v3=opb$$
    if ! ip netns add "$ns1" 2>"$BATS_TEST_TMPDIR/err"; then
        skip "network namespaces are not permitted here: $(cat "$BATS_TEST_TMPDIR/err")"
    fi
    NETNS_CLEANUP="ip netns del $ns1 2>/dev/null; ip netns del $ns3 2>/dev/null; ip link del $v1 2>/dev/null; ip link del $v3 2>/dev/null"
    ip netns add "$ns3"
    # n2 stays in this namespace, reachable at 198.18.1.1 from ns1 and 198.18.3.1 from ns3.
    ip link add "$v1" type veth peer name "${v1}p"
    ip link add "$v3" type veth peer name "${v3}p"
    ip link set "${v1}p" netns "$ns1"
    ip link set "${v3}p" netns "$ns3"
    ip addr add 198.18.1.1/30 dev "$v1"
    ip addr add 198.18.3.1/30 dev "$v3"
    ip -n "$ns1" addr add 198.18.1.2/30 dev "${v1}p"
    ip -n "$ns3" addr add 198.18.3.2/30 dev "${v3}p"
    ip link set "$v1" up
    ip link set "$v3" up
    local ns
    for ns in "$ns1" "$ns3"; do ip -n "$ns" link set lo up; done
    ip -n "$ns1" link set "${v1}p" up
    ip -n "$ns3" link set "${v3}p" up

    make_files
    start_http "$BATS_TEST_TMPDIR/www" "$ns3"
    ockam node create n2 --tcp-listener-address 0.0.0.0:0
    local p2
    p2=$(node_port n2)
    ip netns exec "$ns3" "$OCKAM" --home "$OCKAM_HOME" node create n3
    ip netns exec "$ns1" "$OCKAM" --home "$OCKAM_HOME" node create n1
    # n1 cannot reach n3's namespace at all.
    ! ip netns exec "$ns1" curl -sS --max-time 2 "http://198.18.3.2:$HTTP_PORT/" 2>/dev/null
    ockam relay create n3 --at "/ip4/198.18.3.1/tcp/$p2" --to n3
    ockam tcp-outlet create --at n3 --to "127.0.0.1:$HTTP_PORT"
    local port
    create_inlet port --at n1 --from 127.0.0.1:0 \
        --to "/ip4/198.18.1.1/tcp/$p2/service/forward_to_n3/service/outlet"
    run ip netns exec "$ns1" curl -sS --max-time 20 "http://127.0.0.1:$port/small.txt"
    assert_success
    assert_output "hello through a portal"
    ip netns exec "$ns1" curl -sS --max-time 60 -o "$BATS_TEST_TMPDIR/got.bin" \
        "http://127.0.0.1:$port/big.bin"
    assert_equal "$(sha "$BATS_TEST_TMPDIR/got.bin")" "$(sha "$BATS_TEST_TMPDIR/www/big.bin")"
}

# The issue's case, with real processes: a server answers at once (5 MiB), half-closes, then
# reads the client's upload (64 MiB) to its end; the client uploads while it reads the reply.
# Through tcp-inlet -> tcp-outlet both arrive whole, every time (before, 1 to 5 runs in 10
# ended with a clean EOF after a short reply).
@test "a server that answers early and half-closes: reply and upload whole, 10 runs" {
    cat >"$BATS_TEST_TMPDIR/early.py" <<'PY'
import hashlib, listen, random, socket, sys, threading
REPLY, UPLOAD = 5 << 20, 64 << 20
def data(seed, n):
    return random.Random(seed).randbytes(n)
def answer(c, out):
    try:
        c.sendall(data(1, REPLY))
        c.shutdown(socket.SHUT_WR)
        h, n = hashlib.sha256(), 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
    except OSError:
        return  # a client that went away
    finally:
        c.close()
    if n:
        with open(out, "a") as f:
            f.write(f"{n} {h.hexdigest()}\n")
def serve(out):
    ls = listen.server()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=answer, args=(c, out), daemon=True).start()
def client(port):
    c = socket.create_connection(("127.0.0.1", port))
    up = data(2, UPLOAD)
    def send():
        try:
            c.sendall(up)
            c.shutdown(socket.SHUT_WR)
        except OSError as e:
            print("upload error", e, file=sys.stderr)
    t = threading.Thread(target=send)
    t.start()
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    t.join()
    c.close()
    ok = n == REPLY and h.hexdigest() == hashlib.sha256(data(1, REPLY)).hexdigest()
    print(f"reply {n} {'whole' if ok else 'SHORT'}")
    print(f"upload {UPLOAD} {hashlib.sha256(up).hexdigest()}")
if sys.argv[1] == "serve":
    serve(sys.argv[2])
else:
    client(int(sys.argv[2]))
PY
    local sport iport got want
    start_server sport "$BATS_TEST_TMPDIR/early.py" serve "$BATS_TEST_TMPDIR/uploads"
    ockam node create n1
    ockam node create n2
    ockam tcp-outlet create --at n1 --from early --to "127.0.0.1:$sport"
    create_inlet iport --at n2 --from 127.0.0.1:0 --to /node/n1/service/early --alias early
    for i in $(seq 1 10); do
        run python3 "$BATS_TEST_TMPDIR/early.py" client "$iport"
        assert_success
        assert_line "reply $((5 << 20)) whole"
        want=$(sed -n 2p <<<"$output" | cut -d' ' -f2-)
        # The server writes down what it read once it has read the client's EOF.
        for _ in $(seq 1 100); do
            [ "$(wc -l <"$BATS_TEST_TMPDIR/uploads" 2>/dev/null || echo 0)" -ge "$i" ] && break
            sleep 0.1
        done
        got=$(sed -n "${i}p" "$BATS_TEST_TMPDIR/uploads")
        assert_equal "$got" "$want"
    done
}

# A node that dies in the middle of a transfer (kill -9: the kernel closes its sockets) must not
# make the applications believe the stream ended: the server of a cut upload and the client of
# a cut download see a reset, never a clean EOF (before, both read a FIN).
cut_tool() {
    cat >"$BATS_TEST_TMPDIR/cut.py" <<'PY'
import listen, socket, sys, time
mode, path = sys.argv[1], sys.argv[-1]
def ended(f):
    try:
        while True:
            if not f():
                return "clean"
    except OSError:
        return "reset"
if mode == "serve":  # path: one line per connection, how its upload ended
    ls = listen.server()
    while True:
        c, _ = ls.accept()
        try:
            first = c.recv(1)
        except OSError:
            first = b""
        if first == b"U":  # upload: say we are ready, then read to the end
            c.sendall(b"A")
            end = ended(lambda: c.recv(1 << 16))
            with open(path, "a") as f:
                f.write(end + "\n")
        elif first == b"D":  # download: send until the peer goes away
            ended(lambda: c.sendall(b"x" * (1 << 16)) or time.sleep(0.01) or True)
        c.close()
c = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
if mode == "upload":  # path: created once the upload runs
    c.sendall(b"U")
    assert c.recv(1) == b"A"
    open(path, "w").close()
    ended(lambda: c.sendall(b"y" * (1 << 16)) or time.sleep(0.01) or True)
else:  # download; path: created once bytes arrive; prints how the download ended
    c.sendall(b"D")
    def read():
        b = c.recv(1 << 16)
        if b:
            open(path, "a").close()
        return b
    print(ended(read))
PY
}

cut_setup() {
    cut_tool
    local sport
    start_server sport "$BATS_TEST_TMPDIR/cut.py" serve "$BATS_TEST_TMPDIR/ends"
    ockam node create n1
    ockam node create n2
    ockam tcp-outlet create --at n1 --from cut --to "127.0.0.1:$sport"
    create_inlet CUT_PORT --at n2 --from 127.0.0.1:0 --to /node/n1/service/cut --alias cut
}

@test "the outlet's node dies during an upload: the server sees a reset, not a clean EOF" {
    cut_setup
    python3 "$BATS_TEST_TMPDIR/cut.py" upload "$CUT_PORT" "$BATS_TEST_TMPDIR/running" &
    SERVERS+=($!)
    wait_file "$BATS_TEST_TMPDIR/running"
    kill -9 "$(node_pid n1)"
    wait_file "$BATS_TEST_TMPDIR/ends"
    for _ in $(seq 1 50); do
        [ -s "$BATS_TEST_TMPDIR/ends" ] && break
        sleep 0.1
    done
    assert_equal "$(cat "$BATS_TEST_TMPDIR/ends")" "reset"
}

@test "the inlet's node dies during a download: the client sees a reset, not a clean EOF" {
    cut_setup
    python3 "$BATS_TEST_TMPDIR/cut.py" download "$CUT_PORT" "$BATS_TEST_TMPDIR/running" \
        >"$BATS_TEST_TMPDIR/client" &
    local client=$!
    wait_file "$BATS_TEST_TMPDIR/running"
    kill -9 "$(node_pid n2)"
    wait "$client"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/client")" "reset"
}

# A TCP server on 127.0.0.1:0 (its port: WATCH_PORT) that reads each connection to its end; for
# the connections that sent something it creates $1.got at their first bytes and writes how
# they ended ("eof" or "reset") to $1.
start_watching_server() {
    cat >"$BATS_TEST_TMPDIR/watch.py" <<'PY'
import listen, os, sys, threading
def serve(c, out):
    got, how = 0, "eof"
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            if not got:
                open(out + ".got", "w").close()
            got += len(b)
    except ConnectionResetError:
        how = "reset"
    if got:
        with open(out + ".tmp", "w") as f:
            f.write(how)
        os.rename(out + ".tmp", out)
s = listen.server()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c, sys.argv[1]), daemon=True).start()
PY
    start_server WATCH_PORT "$BATS_TEST_TMPDIR/watch.py" "$1"
}

outlet_conns() {
    ockam tcp-outlet show db --at "$1" --output json | jq .connections
}

@test "kill -9 of the inlet node behind a relay: the outlet resets its server's connection" {
    local ended="$BATS_TEST_TMPDIR/ended"
    start_watching_server "$ended"
    ockam node create n2
    ockam node create n3
    ockam node create n1
    ockam relay create n3 --at /node/n2 --to n3
    ockam tcp-outlet create --at n3 --from db --to "127.0.0.1:$WATCH_PORT" --ping-interval 1s
    local port
    create_inlet port --at n1 --from 0 --alias db \
        --to /node/n2/service/forward_to_n3/service/db
    # A client that sent its request and waits for the answer, connection open.
    exec 5<>"/dev/tcp/127.0.0.1/$port"
    echo "SELECT 1;" >&5
    wait_file "$ended.got" 10
    [ "$(outlet_conns n3)" = 1 ]
    kill -9 "$(node_pid n1)"
    local start=$SECONDS
    wait_file "$ended" 15 # 3 to 4 periods of 1 s; without the check: open until the server ends it
    echo "the server's connection ended ($(cat "$ended")) $((SECONDS - start)) s after the kill" >&3
    assert_equal "$(cat "$ended")" reset
    wait_equal outlet_conns n3 10 0
    exec 5>&-
}
