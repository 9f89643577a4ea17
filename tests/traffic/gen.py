#!/usr/bin/env python3
"""Traffic for the live capture tests (tests/netns.rs), run inside a test
namespace with `ip netns exec NS python3 tests/traffic/gen.py MODE ...`.
Every packet goes to an address of the test's own namespaces (or, for
`offlink`, to documentation addresses that only a broken default route
sends onto the test's veth as ARP requests; nothing answers them).

Modes (SECONDS: how long to keep sending):
  offlink SECONDS           UDP to 198.51.100.N and 203.0.113.N, one every 20 ms
  synflood DST PORT SECONDS SYNs from spoofed 10.211.X.Y (raw socket), ~2,000/s
  dns RESOLVER SECONDS      DNS queries for hostN.example.org, one every 100 ms
  serve PORT SECONDS        a TCP server accepting and closing connections
  connect DST PORT SECONDS  TCP connections to DST:PORT, one every 50 ms
"""
import socket
import struct
import sys
import time


def offlink(seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end, n = time.time() + seconds, 0
    while time.time() < end:
        net = "198.51.100" if n % 2 == 0 else "203.0.113"
        try:
            s.sendto(b"x", (f"{net}.{1 + (n // 2) % 250}", 9))
        except OSError:
            pass  # neighbour resolution failed: that is the point
        n += 1
        time.sleep(0.02)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def synflood(dst, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    dst_b = socket.inet_aton(dst)
    end, n = time.time() + seconds, 0
    while time.time() < end:
        for _ in range(20):
            src_b = bytes([10, 211, (n >> 8) & 0xFF, n & 0xFF or 1])
            sport = 1024 + n % 60000
            tcp = struct.pack("!HHIIBBHHH", sport, port, n, 0, 5 << 4, 0x02, 64240, 0, 0)
            pseudo = src_b + dst_b + struct.pack("!BBH", 0, 6, len(tcp))
            tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), n & 0xFFFF, 0, 64, 6, 0, src_b, dst_b)
            s.sendto(ip + tcp, (dst, 0))
            n += 1
        time.sleep(0.01)


def dns(resolver, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    end, n = time.time() + seconds, 0
    while time.time() < end:
        q = struct.pack("!HHHHHH", 0x1000 + n, 0x0100, 1, 0, 0, 0)
        for label in f"host{n}.example.org".split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\0" + struct.pack("!HH", 1, 1)
        try:
            s.sendto(q, (resolver, 53))
        except OSError:
            pass  # an ICMP port unreachable from the last one
        n += 1
        time.sleep(0.1)


def serve(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    s.settimeout(0.2)
    end = time.time() + seconds
    while time.time() < end:
        try:
            c, _ = s.accept()
            c.close()
        except socket.timeout:
            pass


def connect(dst, port, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection((dst, port), timeout=1).close()
        except OSError:
            pass
        time.sleep(0.05)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "offlink":
        offlink(float(args[0]))
    elif mode == "synflood":
        synflood(args[0], int(args[1]), float(args[2]))
    elif mode == "dns":
        dns(args[0], float(args[1]))
    elif mode == "serve":
        serve(int(args[0]), float(args[1]))
    elif mode == "connect":
        connect(args[0], int(args[1]), float(args[2]))
    else:
        sys.exit(f"unknown mode {mode}")
