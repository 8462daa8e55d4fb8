# The applications the portal and secure-channel tests put at the ends of their nodes: python3's
# http.server, an upload server that answers a PUT with the SHA-256 of its body, a slow
# download server and its client, and the helpers around them. Load it after helpers
# (`load helpers`, then `load servers`): its teardown stops the servers a test started (and
# runs NETNS_CLEANUP when the test set it) before the teardown of helpers.bash.

eval "$(declare -f teardown | sed '1s/^teardown/helpers_teardown/')"

SERVERS=()

teardown() {
    local p
    for p in "${SERVERS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [ -z "${NETNS_CLEANUP:-}" ] || eval "$NETNS_CLEANUP"
    helpers_teardown
}

# Runs `python3 SCRIPT ARGS...` in the background (in network namespace $NETNS when set) and
# sets the variable named $1 to the port it listens on, waiting 10 s at most. The script listens
# on 127.0.0.1:0, then reports the port the kernel gave it, through the module listen.py
# written next to it: `listen.server()` returns such a listening socket, `listen.report(PORT)`
# reports the port of one the script bound itself. Its stdout and stderr go to
# $BATS_TEST_TMPDIR/VAR.log.
start_server() { # var script args...
    local var=$1 script=$2 portfile="$BATS_TEST_TMPDIR/$1.port" log="$BATS_TEST_TMPDIR/$1.log"
    shift 2
    cat >"$(dirname "$script")/listen.py" <<'PY'
import os, socket
def report(port):
    # Whole or not at all: the shell reads the file as soon as it exists.
    path = os.environ["PORT_FILE"]
    with open(path + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(path + ".tmp", path)
def server():
    s = socket.create_server(("127.0.0.1", 0))
    report(s.getsockname()[1])
    return s
PY
    PORT_FILE=$portfile ${NETNS:+ip netns exec "$NETNS"} python3 "$script" "$@" >"$log" 2>&1 3>&- &
    SERVERS+=($!)
    if ! wait_file "$portfile"; then
        cat "$log" >&2
        return 1
    fi
    printf -v "$var" '%s' "$(cat "$portfile")"
}

# python3's http.server on 127.0.0.1:0 serving $1; sets HTTP_PORT. $2: namespace (optional).
start_http() {
    cat >"$BATS_TEST_TMPDIR/http_server.py" <<'PY'
import functools, http.server, listen, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
listen.report(srv.server_address[1])
srv.serve_forever()
PY
    NETNS=${2:-} start_server HTTP_PORT "$BATS_TEST_TMPDIR/http_server.py" "$1"
}

# A python3 HTTP server on 127.0.0.1:0 whose request handler has the methods read from stdin
# (indented for its class body); sets the variable named $1 to the port.
start_python_server() {
    local script="$BATS_TEST_TMPDIR/$1.py"
    {
        printf 'import hashlib, http.server, listen, time\n'
        printf 'class H(http.server.BaseHTTPRequestHandler):\n'
        cat
        printf '    def log_message(self, *args):\n        pass\n'
        printf 'srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)\n'
        printf 'listen.report(srv.server_address[1])\n'
        printf 'srv.serve_forever()\n'
    } >"$script"
    start_server "$1" "$script"
}

# An HTTP server whose PUT answers with the SHA-256 of the body; sets UP_PORT.
start_upload_server() {
    start_python_server UP_PORT <<'PY'
    def do_PUT(self):
        n = int(self.headers["Content-Length"])
        h = hashlib.sha256()
        while n > 0:
            b = self.rfile.read(min(n, 1 << 20))
            if not b:
                break
            h.update(b)
            n -= len(b)
        body = h.hexdigest().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
PY
}

# An HTTP server whose every GET answers 100 MiB slowly (64 KiB every 20 ms): a download is
# still under way seconds later, with little in flight. Sets SLOW_PORT.
start_slow_server() {
    start_python_server SLOW_PORT <<'PY'
    def do_GET(self):
        chunk = b"x" * 65536
        self.send_response(200)
        self.send_header("Content-Length", str(1600 * len(chunk)))
        self.end_headers()
        for _ in range(1600):
            self.wfile.write(chunk)
            time.sleep(0.02)
PY
}

# curl downloads through 127.0.0.1:$1 from the slow server behind it, in the background (30 s
# at most) into DL_GOT, its errors in DL_ERR; returns once the first MiB has arrived (and fails
# when it does not within 10 s). Sets DL_PID, DL_GOT and DL_ERR.
start_slow_download() {
    DL_GOT="$BATS_TEST_TMPDIR/got.bin"
    DL_ERR="$BATS_TEST_TMPDIR/curl.err"
    timeout 30 curl -sS -o "$DL_GOT" "http://127.0.0.1:$1/" 2>"$DL_ERR" &
    DL_PID=$!
    local i
    for i in $(seq 1 100); do
        [ "$(stat -c %s "$DL_GOT" 2>/dev/null || echo 0)" -ge 1048576 ] && break
        sleep 0.1
    done
    [ "$(stat -c %s "$DL_GOT")" -ge 1048576 ]
}

sha() {
    sha256sum "$1" | cut -d' ' -f1
}
