#!/usr/bin/env python3
"""tests/lib/hostile_server.py: a server that misbehaves on purpose, for
tests/cli/hostile.sh and tests/cli/key_audit.sh. Standard library only.

    hostile_server.py LOGDIR [CERT KEY]

Listens on loopback only, on ports the kernel picks, and prints one line
"MAIN TARGET TLS" (TLS is 0 without CERT and KEY):

  127.0.0.1:MAIN    answers by the first segment of the path (below);
  127.0.0.2:TARGET  the other host redirects point at: it logs every
                    connection and every byte it reads to LOGDIR/target.log
                    (a correct client never connects), and answers 200 with
                    a ShortPixel-like success so that a client following a
                    redirect would look as if it had succeeded;
  127.0.0.1:TLS     https with whatever certificate it is given (the test
                    makes one for the wrong name); logs handshakes and
                    requests to LOGDIR/tls.log.

Paths on MAIN (then any rest, e.g. /big/set-domain/example.com/KEY):
  /big          200, Content-Length of 1 GiB, the body streamed
  /bigchunked   200, no length, 1 GiB streamed until the client hangs up
  /gzipbomb     200, Content-Encoding: gzip, 1 GiB of zeros compressed
  /endless      200, no length, 1 KiB every 20 ms, never ends
  /slow         200 at once, then the body one byte per second, forever
  /slowhead     the whole answer, status line included, one byte per second
  /badutf8      200, JSON with invalid UTF-8 in a string
  /deep         200, 100,000 nested arrays
  /deepobj      200, 100,000 nested objects
  /manykeys     200, one object with 10 million keys, streamed
  /manykeys-undercap  the same, cut to stay under the 16 MiB cap (valid JSON)
  /redirect     302 to http://127.0.0.2:TARGET/ + the same path (key included)
  /redirect-http 301 to http://127.0.0.2:TARGET/... (a downgrade to http)
  /redirect307  307 (a POST's body, api_key included, would be resent)
  /shortlen     Content-Length: 1000, 11 bytes, then close
  /longheader   200, JSON, and a header that echoes the path after padding
                that puts its last segment (a key) across byte 2048
  anything else 200 {"Status": 2}

Every request line MAIN reads goes to LOGDIR/main.log. Ends on SIGTERM.
"""
import os
import socket
import socketserver
import ssl
import sys
import threading
import time
import zlib

GIB = 1 << 30
LOGDIR = sys.argv[1]
_lock = threading.Lock()


def log(name, line):
    with _lock:
        with open(os.path.join(LOGDIR, name), "a", encoding="utf-8", errors="replace") as f:
            f.write(line.rstrip("\n") + "\n")


def read_request(sock):
    """Read one request head and its body; returns (method, path, raw) or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    length = 0
    for h in lines[1:]:
        name, _, value = h.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    method = parts[0] if parts else ""
    path = parts[1] if len(parts) > 1 else "/"
    return method, path, data


def head(status, headers):
    text = "HTTP/1.1 %s\r\n" % status
    for h in headers:
        text += h + "\r\n"
    return (text + "\r\n").encode("latin-1")


def stream(sock, first, chunks):
    """Send first, then every chunk, until done or the client hangs up."""
    try:
        sock.sendall(first)
        for c in chunks:
            sock.sendall(c)
    except OSError:
        pass


def gen_fill(total, size=65536, byte=b" "):
    block = byte * size
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield block if n == size else block[:n]
        sent += n


def gen_gzip(total):
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    zeros = b"\0" * (1 << 20)
    for _ in range(total // len(zeros)):
        out = comp.compress(zeros)
        if out:
            yield out
    yield comp.flush()


def gen_endless():
    yield b'{"data": "'
    while True:
        time.sleep(0.02)
        yield b"x" * 1024


def gen_drip(data, forever):
    while True:
        for i in range(len(data)):
            yield data[i:i + 1]
            time.sleep(1)
        if not forever:
            return


def gen_manykeys(n, max_bytes=None):
    """One object with n keys; with max_bytes, stop adding keys before it."""
    yield b"{"
    batch, size = 20000, 2
    for start in range(0, n, batch):
        end = min(n, start + batch)
        s = (("," if start else "") + ",".join('"k%d":%d' % (i, i) for i in range(start, end))).encode()
        if max_bytes and size + len(s) > max_bytes:
            break
        size += len(s)
        yield s
    yield b"}"


JSON = "Content-Type: application/json"
CLOSE = "Connection: close"


def answer(sock, method, path, target_port):
    seg = path.split("/")[1] if path.startswith("/") else ""
    seg = seg.split("?")[0]
    if seg == "big":
        stream(sock, head("200 OK", [JSON, "Content-Length: %d" % GIB, CLOSE]), gen_fill(GIB))
    elif seg == "bigchunked":
        stream(sock, head("200 OK", [JSON, CLOSE]), gen_fill(GIB))
    elif seg == "gzipbomb":
        stream(sock, head("200 OK", [JSON, "Content-Encoding: gzip", CLOSE]), gen_gzip(GIB))
    elif seg == "endless":
        stream(sock, head("200 OK", [JSON, CLOSE]), gen_endless())
    elif seg == "slow":
        stream(sock, head("200 OK", [JSON, CLOSE]), gen_drip(b'{"Status": 2}', True))
    elif seg == "slowhead":
        body = b'{"Status": 2}'
        whole = head("200 OK", [JSON, "Content-Length: %d" % len(body), CLOSE]) + body
        stream(sock, b"", gen_drip(whole, False))
    elif seg == "badutf8":
        body = b'{"Status": 2, "Message": "caf\xc3\x28 \xff\xfe"}'
        stream(sock, head("200 OK", [JSON, "Content-Length: %d" % len(body), CLOSE]) + body, [])
    elif seg in ("deep", "deepobj"):
        n = 100000
        body = (b"[" * n + b"]" * n) if seg == "deep" else (b'{"a":' * n + b"1" + b"}" * n)
        stream(sock, head("200 OK", [JSON, "Content-Length: %d" % len(body), CLOSE]) + body, [])
    elif seg == "manykeys":
        stream(sock, head("200 OK", [JSON, CLOSE]), gen_manykeys(10 * 1000 * 1000))
    elif seg == "manykeys-undercap":
        stream(sock, head("200 OK", [JSON, CLOSE]), gen_manykeys(10 * 1000 * 1000, 16 * 1000 * 1000))
    elif seg in ("redirect", "redirect-http", "redirect307"):
        status = {"redirect": "302 Found", "redirect-http": "301 Moved Permanently",
                  "redirect307": "307 Temporary Redirect"}[seg]
        loc = "http://127.0.0.2:%d%s" % (target_port, path)
        body = ('{"error": "moved to %s"}' % loc).encode()
        stream(sock, head(status, [JSON, "Location: " + loc, "Content-Length: %d" % len(body), CLOSE]) + body, [])
    elif seg == "shortlen":
        stream(sock, head("200 OK", [JSON, "Content-Length: 1000", CLOSE]) + b'{"Status": ', [])
    elif seg == "longheader":
        body = b'{"Status": 2}'
        # the last segment (the key) starts 10 bytes before the 2048th of the line
        pad = max(0, 2037 - len("X-Echo: ") - (path.rfind("/") + 1))
        echo = "X-Echo: " + "p" * pad + path
        stream(sock, head("200 OK", [JSON, echo, "Content-Length: %d" % len(body), CLOSE]) + body, [])
    else:
        body = b'{"Status": 2}'
        stream(sock, head("200 OK", [JSON, "Content-Length: %d" % len(body), CLOSE]) + body, [])


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class MainHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            req = read_request(self.request)
        except OSError:
            return
        if not req:
            return
        method, path, _ = req
        log("main.log", "%s %s" % (method, path))
        answer(self.request, method, path, self.server.target_port)
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class TargetHandler(socketserver.BaseRequestHandler):
    """The host a redirect points at: nothing should ever arrive here."""
    def handle(self):
        log("target.log", "connection from %s:%d" % self.client_address)
        try:
            self.request.settimeout(5)
            data = self.request.recv(65536)
            log("target.log", "received: " + data.decode("latin-1"))
            body = b'{"Status": 2, "Message": "followed"}'
            self.request.sendall(head("200 OK", [JSON, "Content-Length: %d" % len(body), CLOSE]) + body)
        except OSError as e:
            log("target.log", "error: %s" % e)


class TLSHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            conn = self.server.ctx.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log("tls.log", "handshake failed: %s" % e)
            return
        log("tls.log", "handshake completed")
        try:
            req = read_request(conn)
            if req:
                log("tls.log", "request: %s %s" % (req[0], req[1]))
                body = b'{"Status": 2}'
                conn.sendall(head("200 OK", [JSON, "Content-Length: %d" % len(body), CLOSE]) + body)
        except OSError as e:
            log("tls.log", "error after handshake: %s" % e)


def serve(srv):
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def main():
    for name in ("main.log", "target.log", "tls.log"):
        open(os.path.join(LOGDIR, name), "a").close()
    target = Server(("127.0.0.2", 0), TargetHandler)
    main_srv = Server(("127.0.0.1", 0), MainHandler)
    main_srv.target_port = target.server_address[1]
    tls_port = 0
    if len(sys.argv) >= 4:
        tls = Server(("127.0.0.1", 0), TLSHandler)
        tls.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        tls_port = tls.server_address[1]
        serve(tls)
    serve(target)
    serve(main_srv)
    print("%d %d %d" % (main_srv.server_address[1], target.server_address[1], tls_port), flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
