#!/usr/bin/env python3
"""A TCP proxy that records what crosses it: record_proxy.py TARGET_PORT LOG_PREFIX.

Listens on 127.0.0.1 (a free port, printed as the first line of stdout), connects each client
to 127.0.0.1:TARGET_PORT, and appends the bytes going towards the target to LOG_PREFIX.up and
those coming back to LOG_PREFIX.down. Used by the demo to show what a middle node forwards.
"""
import socket
import sys
import threading


def pipe(src, dst, path, lock):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with lock, open(path, "ab") as f:
                f.write(data)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    target, prefix = int(sys.argv[1]), sys.argv[2]
    for suffix in (".up", ".down"):
        open(prefix + suffix, "wb").close()
    lock = threading.Lock()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    while True:
        client, _ = srv.accept()
        upstream = socket.create_connection(("127.0.0.1", target))
        threading.Thread(target=pipe, args=(client, upstream, prefix + ".up", lock), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client, prefix + ".down", lock), daemon=True).start()


if __name__ == "__main__":
    main()
