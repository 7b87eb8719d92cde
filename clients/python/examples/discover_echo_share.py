#!/usr/bin/python3
"""Discover -> echo -> share -> reclaim, as the host (VM 0) behind the pkvm-7.4 proxy of the default manifest.

Runs on its own fresh system, deletes it at the end, prints each step. Exit status: 0 when every step passed,
1 when one failed, 2 when no Spmc answers at the target.

    /usr/bin/python3 clients/python/examples/discover_echo_share.py [--target 127.0.0.1:5081] [--manifest FILE]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from spmc_client import FfaError, ServerUnavailable, Spmc, SpmcError, ffa  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
HOST = 0x0
ECHO, MEMORY = 0x8001, 0x8002
# In the host's region of the default manifest (0x80000000, 256 MiB).
TX, RX, PAGE_ADDR = 0x80001000, 0x80002000, 0x80100000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("SPMC_GRPC", "127.0.0.1:5081"),
                        help="Spmc's gRPC endpoint (default $SPMC_GRPC or 127.0.0.1:5081)")
    parser.add_argument("--manifest", default=os.path.join(REPO, "src", "Spmc.Server", "manifests", "default.json"))
    args = parser.parse_args()

    spmc = Spmc(args.target)
    system = "py-example-%d" % os.getpid()
    try:
        info = spmc.create_system(path=args.manifest, id=system)
    except ServerUnavailable as e:
        print("error: %s" % e.message, file=sys.stderr)
        return 2
    print("system %s: %s" % (system, ", ".join("0x%x %s (%s)" % (p.id, p.name, p.behaviour) for p in info.partitions)))

    steps = []

    def step(title, check):
        n = len(steps) + 1
        try:
            result = check()
        except (FfaError, SpmcError, AssertionError) as e:
            print("%d. %s: FAILED: %s" % (n, title, e))
            steps.append(False)
            return None
        print("%d. %s: %s" % (n, title, result[0]))
        steps.append(True)
        return result[1]

    def version():
        got = spmc.version(system, HOST, "1.2")
        assert got == "1.2", "version %s, want 1.2" % got
        return "version %s" % got, got

    def rxtx_map():
        spmc.rxtx_map(system, HOST, TX, RX, 1)
        return "TX 0x%x, RX 0x%x, 1 page" % (TX, RX), None

    def discover():
        entries = spmc.partition_info_get(system, HOST, RX)
        ids = sorted({e.id for e in entries})
        assert ECHO in ids and MEMORY in ids, "partitions %s" % ids
        return "%d entries: %s" % (len(entries), ", ".join("0x%x %s" % (e.id, e.uuid) for e in entries)), entries

    def echo():
        answer = spmc.direct_request(system, HOST, ECHO, [0x11, 0x22, 0x33])
        payload = [answer.w(i) for i in range(3, 6)]
        assert payload == [0x11, 0x22, 0x33], "payload %s" % [hex(v) for v in payload]
        assert answer.w(1) == (ECHO << 16) | HOST, "w1 0x%x" % answer.w(1)
        return "%s, payload %s" % (answer.decoded.result, " ".join("0x%x" % v for v in payload)), None

    def share():
        spmc.write_memory(system, PAGE_ADDR, b"\xa5" * ffa.PAGE, as_endpoint=HOST)
        descriptor = ffa.memory_descriptor(HOST, [(MEMORY, ffa.ACCESS_RW)], [(PAGE_ADDR, 1)], layout="1.2")
        handle = spmc.mem_send(system, HOST, TX, descriptor, "share")
        return "1 page at 0x%x (0xA5 bytes) to 0x%x, handle 0x%x" % (PAGE_ADDR, MEMORY, handle), handle

    def touch(handle):
        # memory behaviour (docs/partitions.md): retrieve, check every byte is 0xA5, fill with 0x5A, relinquish.
        answer = spmc.direct_request(system, HOST, MEMORY,
                                     [handle & 0xFFFFFFFF, handle >> 32, 1, 0x100 | 0xA5, 0x100 | 0x5A])
        status, pages = answer.w(3), answer.w(5)
        assert status == 0, "status %d (step 0x%x)" % (status, answer.w(4))
        assert pages == 1, "%d pages retrieved" % pages
        data = spmc.read_memory(system, PAGE_ADDR, ffa.PAGE, as_endpoint=HOST)
        assert data == b"\x5a" * ffa.PAGE, "the page does not hold 0x5A: %s..." % data[:8].hex()
        return "status 0, 1 page retrieved, checked 0xA5, the host now reads 0x5A", None

    def reclaim(handle):
        spmc.mem_reclaim(system, HOST, handle)
        shares = spmc.state(system).shares
        assert len(shares) == 0, "%d shares left" % len(shares)
        return "handle 0x%x reclaimed, no share left" % handle, None

    def unmap():
        spmc.rxtx_unmap(system, HOST)
        return "done", None

    try:
        step("FFA_VERSION 1.2", version)
        step("FFA_RXTX_MAP_64", rxtx_map)
        step("FFA_PARTITION_INFO_GET (nil UUID)", discover)
        step("direct request to 0x%x (echo)" % ECHO, echo)
        handle = step("FFA_MEM_SHARE_32", share)
        if handle is not None:
            step("direct request to 0x%x (memory): retrieve, check, write" % MEMORY, lambda: touch(handle))
            step("FFA_MEM_RECLAIM", lambda: reclaim(handle))
        step("FFA_RXTX_UNMAP", unmap)
    finally:
        spmc.delete_system(system)
        spmc.close()
    passed = sum(steps)
    print("%d of 8 steps passed; system %s deleted" % (passed, system))
    return 0 if passed == 8 else 1


if __name__ == "__main__":
    sys.exit(main())
