#!/usr/bin/env python3
"""Traffic for scripts/chaos.sh and scripts/load.sh: a TCP server behind a portal outlet, and
clients that move checksummed data through the inlet and classify every outcome.

  server PORT LOG [PORTFILE]  GET/PUT server on 127.0.0.1:PORT; one JSON line per upload in LOG;
                              with PORTFILE (PORT 0: the kernel picks), the port it got is
                              written there once it listens
  transfer PORT ID SIZE SEED DIR RATE TIMEOUT
                              one transfer (DIR get|put, RATE bytes/s, 0 = unlimited); prints one
                              JSON line: status ok | failed | short_clean | corrupt | stalled
  probe PORT                  a 4 KiB GET; exit 0 when the bytes are identical
  flood HOST PORT SECONDS     connections that send random garbage (then close or reset)
  load PORT N SIZE TIMEOUT MARK
                              N concurrent GETs of SIZE bytes: all N connect first, MARK is
                              created, 3 s later every request goes; prints one JSON line

The request is one line, "GET SIZE SEED" or "PUT SIZE SEED" (then SIZE bytes). The data of a
(SIZE, SEED) pair is random.Random(SEED).randbytes(SIZE) on both sides, so the receiver knows
exactly what it must get. A clean EOF before SIZE bytes is the one outcome that must never
happen: the portal would have let an application believe a cut transfer was complete.
"""
import asyncio
import hashlib
import json
import os
import random
import socket
import socketserver
import sys
import threading
import time

CHUNK = 64 * 1024


def data_for(size, seed):
    return random.Random(seed).randbytes(size)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        f = s.makefile("rb")
        try:
            line = f.readline(100).decode().split()
        except (OSError, UnicodeDecodeError):
            return
        if len(line) != 3:
            return
        op, size, seed = line[0], int(line[1]), int(line[2])
        if op == "GET":
            try:
                s.sendall(data_for(size, seed))
                s.shutdown(socket.SHUT_WR)
                s.settimeout(5)
                while s.recv(CHUNK):
                    pass
            except OSError:
                pass
            return
        h = hashlib.sha256()
        got, eof = 0, "clean"
        try:
            while got < size:
                b = f.read1(min(CHUNK, size - got))
                if not b:
                    break
                h.update(b)
                got += len(b)
        except OSError as e:
            eof = "error: %s" % e.__class__.__name__
        ok = got == size and h.hexdigest() == hashlib.sha256(data_for(size, seed)).hexdigest()
        with self.server.log_lock:
            with open(self.server.log_path, "a") as log:
                log.write(json.dumps({"size": size, "seed": seed, "got": got, "eof": eof,
                                      "identical": ok}) + "\n")
        try:
            s.sendall(("OK %s\n" % h.hexdigest() if ok else "BAD %d\n" % got).encode())
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 4096


def server(port, log_path, port_file=None):
    srv = Server(("127.0.0.1", int(port)), Handler)
    srv.log_path = log_path
    srv.log_lock = threading.Lock()
    if port_file:
        # Whole or not at all: the shell reads the file as soon as it exists.
        with open(port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()


def transfer(port, tid, size, seed, direction, rate, timeout):
    size, seed, rate, timeout = int(size), int(seed), int(rate), float(timeout)
    want = data_for(size, seed)
    res = {"id": tid, "dir": direction, "size": size, "got": 0}
    start = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    except OSError as e:
        res.update(status="failed", reason="connect: %s" % e)
        return res
    s.settimeout(20)  # no byte for 20 s: the transfer is stuck
    try:
        if direction == "get":
            s.sendall(b"GET %d %d\n" % (size, seed))
            h, got = hashlib.sha256(), 0
            while True:
                if time.monotonic() - start > timeout:
                    res.update(status="stalled", reason="timeout", got=got)
                    return res
                b = s.recv(CHUNK)
                if not b:
                    break
                h.update(b)
                got += len(b)
                if rate:
                    lag = got / rate - (time.monotonic() - start)
                    if lag > 0:
                        time.sleep(lag)
            res["got"] = got
            if got < size:
                res.update(status="short_clean", reason="clean EOF after %d of %d bytes" % (got, size))
            elif got > size or h.digest() != hashlib.sha256(want).digest():
                res.update(status="corrupt", reason="%d bytes, SHA-256 differs" % got)
            else:
                res.update(status="ok")
            return res
        s.sendall(b"PUT %d %d\n" % (size, seed))
        sent = 0
        while sent < size:
            if time.monotonic() - start > timeout:
                res.update(status="stalled", reason="timeout", got=sent)
                return res
            sent += s.send(want[sent:sent + CHUNK])
            if rate:
                lag = sent / rate - (time.monotonic() - start)
                if lag > 0:
                    time.sleep(lag)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            b = s.recv(100)
            if not b:
                break
            reply += b
        res["got"] = sent
        expect = "OK %s" % hashlib.sha256(want).hexdigest()
        text = reply.decode(errors="replace")
        if text.strip() == expect:
            res.update(status="ok")
        elif not text.endswith("\n"):
            # The server always ends its answer with a newline: a clean EOF before it means
            # the answer was cut and the client was not told (short_clean, like a cut GET).
            res.update(status="short_clean", reason="clean EOF after %d answer bytes" % len(reply))
        else:
            res.update(status="failed", reason="answer %r" % reply[:80])
        return res
    except socket.timeout:
        res.update(status="stalled", reason="no byte for 20 s")
        return res
    except OSError as e:
        res.update(status="failed", reason="%s: %s" % (e.__class__.__name__, e))
        return res
    finally:
        res["seconds"] = round(time.monotonic() - start, 2)
        s.close()


def probe(port):
    r = transfer(port, "probe", 4096, 7, "get", 0, 3)
    return 0 if r["status"] == "ok" else 1


def flood(host, port, seconds):
    end = time.monotonic() + float(seconds)
    n = 0
    while time.monotonic() < end:
        try:
            s = socket.create_connection((host, int(port)), timeout=1)
            s.sendall(os.urandom(random.randint(1, 4096)))
            if random.random() < 0.5:
                # close with unread data / linger 0: a reset instead of a FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            s.close()
            n += 1
        except OSError:
            time.sleep(0.05)
    print(n)


async def load_one(port, size, seed, want_digest, timeout, connected, go):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        connected()
        return "failed:connect:%s" % e.__class__.__name__
    connected()
    await go.wait()
    try:
        w.write(b"GET %d %d\n" % (size, seed))
        await w.drain()
        h, got = hashlib.sha256(), 0
        while True:
            b = await asyncio.wait_for(r.read(CHUNK), timeout)
            if not b:
                break
            h.update(b)
            got += len(b)
        w.close()
        if got < size:
            return "short_clean"
        return "ok" if h.digest() == want_digest else "corrupt"
    except (OSError, asyncio.TimeoutError) as e:
        return "failed:%s" % e.__class__.__name__


async def load_all(port, n, size, timeout, mark):
    want = hashlib.sha256(data_for(size, 11)).digest()
    go = asyncio.Event()
    left = [n]

    def connected():
        left[0] -= 1
        if left[0] == 0:
            open(mark, "w").close()
            asyncio.get_running_loop().call_later(3, go.set)

    start = time.monotonic()
    results = await asyncio.gather(*(load_one(port, size, 11, want, timeout, connected, go)
                                     for _ in range(n)))
    counts = {}
    for r in results:
        counts[r] = counts.get(r, 0) + 1
    return {"connections": n, "size": size, "results": counts,
            "seconds": round(time.monotonic() - start, 2)}


def main(argv):
    cmd = argv[1]
    if cmd == "server":
        server(*argv[2:5])
    elif cmd == "transfer":
        print(json.dumps(transfer(*argv[2:9])), flush=True)
    elif cmd == "probe":
        return probe(argv[2])
    elif cmd == "flood":
        flood(*argv[2:5])
    elif cmd == "load":
        print(json.dumps(asyncio.run(load_all(int(argv[2]), int(argv[3]), int(argv[4]),
                                              float(argv[5]), argv[6]))))
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
