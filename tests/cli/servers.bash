# The applications the portal and secure-channel tests put at the ends of their nodes: python3's
# http.server, an upload server that answers a PUT with the SHA-256 of its body, and the
# helpers around them. Load it after helpers (`load helpers`, then `load servers`): its
# teardown stops the servers a test started (and runs NETNS_CLEANUP when the test set it)
# before the teardown of helpers.bash.

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

# Wait until something accepts on 127.0.0.1:$1 (in namespace $2 when given).
wait_listening() {
    local i
    for i in $(seq 1 100); do
        if ${2:+ip netns exec "$2"} python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

# python3 -m http.server on a free port serving $1; sets HTTP_PORT. $2: namespace (optional).
start_http() {
    HTTP_PORT=$(tcp_port)
    ${2:+ip netns exec "$2"} python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$1" \
        >/dev/null 2>&1 &
    SERVERS+=($!)
    wait_listening "$HTTP_PORT" "${2:-}"
}

# An HTTP server whose PUT answers with the SHA-256 of the body; sets UP_PORT.
start_upload_server() {
    UP_PORT=$(tcp_port)
    cat >"$BATS_TEST_TMPDIR/up.py" <<'PY'
import hashlib, http.server, sys
class H(http.server.BaseHTTPRequestHandler):
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
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    python3 "$BATS_TEST_TMPDIR/up.py" "$UP_PORT" >/dev/null 2>&1 &
    SERVERS+=($!)
    wait_listening "$UP_PORT"
}

sha() {
    sha256sum "$1" | cut -d' ' -f1
}
