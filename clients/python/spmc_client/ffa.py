"""FF-A constants, version helpers and the memory transaction descriptor builder (no gRPC here).

Layouts follow DEN0077: the v1.0 header is 32 bytes with 16-byte endpoint memory access descriptors (EMADs);
from v1.1 the header is 48 bytes and names the EMAD size (16 at v1.1, 32 at v1.2 and later) and the EMAD
array's offset. The composite memory region descriptor follows the EMADs: 16 bytes, then 16 bytes per
constituent (address, page count).
"""

import struct
import uuid as _uuid

# Function IDs (SMC32 unless the name ends in _64).
FFA_ERROR = 0x84000060
FFA_SUCCESS_32 = 0x84000061
FFA_SUCCESS_64 = 0xC4000061
FFA_VERSION = 0x84000063
FFA_RX_RELEASE = 0x84000065
FFA_RXTX_MAP_64 = 0xC4000066
FFA_RXTX_UNMAP = 0x84000067
FFA_PARTITION_INFO_GET = 0x84000068
FFA_ID_GET = 0x84000069
FFA_MSG_SEND_DIRECT_REQ_32 = 0x8400006F
FFA_MSG_SEND_DIRECT_RESP_32 = 0x84000070
FFA_MSG_SEND_DIRECT_REQ_64 = 0xC400006F
FFA_MSG_SEND_DIRECT_RESP_64 = 0xC4000070
FFA_MEM_DONATE_32 = 0x84000071
FFA_MEM_LEND_32 = 0x84000072
FFA_MEM_SHARE_32 = 0x84000073
FFA_MEM_RECLAIM = 0x84000077
FFA_MEM_FRAG_RX = 0x8400007A
FFA_MEM_FRAG_TX = 0x8400007B

ERRORS = {
    -1: "NOT_SUPPORTED", -2: "INVALID_PARAMETERS", -3: "NO_MEMORY", -4: "BUSY", -5: "INTERRUPTED",
    -6: "DENIED", -7: "RETRY", -8: "ABORTED", -9: "NO_DATA", -10: "NOT_READY",
}

PAGE = 4096

# Memory region attributes: normal memory, write-back, inner shareable (what a sender of a SHARE sets).
ATTR_NORMAL_WB_INNER = 0x2F
# Data access permissions of an EMAD (bits[1:0]).
ACCESS_RO = 0x1
ACCESS_RW = 0x2


def version(major, minor):
    """The FFA_VERSION word: bits[30:16] major, bits[15:0] minor."""
    return (major << 16) | minor


def parse_version(text):
    """'1.2' -> 0x10002."""
    major, _, minor = str(text).partition(".")
    return version(int(major), int(minor or 0))


def error_name(w2):
    """The FF-A error name of an FFA_ERROR answer's w2 (a signed 32-bit code)."""
    code = w2 & 0xFFFFFFFF
    code = code - (1 << 32) if code & 0x80000000 else code
    return ERRORS.get(code, "error %d" % code)


def memory_descriptor(sender, receivers, constituents, layout="1.2", attributes=ATTR_NORMAL_WB_INNER,
                      flags=0, tag=0, handle=0):
    """A memory transaction descriptor (what FFA_MEM_SHARE/LEND/DONATE read from TX) as bytes.

    receivers: [(endpoint_id, access)] with access ACCESS_RO or ACCESS_RW (instruction access not specified).
    constituents: [(address, pages)]. layout: "1.0", "1.1" or "1.2" (and later: the 1.2 layout).
    For LEND and DONATE the sender leaves the attributes 0 (DEN0077 v1.1 §10.10.4): pass attributes=0.
    """
    layout_version = parse_version(layout)
    if not receivers:
        raise ValueError("receivers: at least one")
    if not constituents:
        raise ValueError("constituents: at least one")
    if layout_version < version(1, 1):
        header, emad_size = 32, 16
    else:
        header, emad_size = 48, (32 if layout_version >= version(1, 2) else 16)
    composite = header + emad_size * len(receivers)
    out = bytearray(composite + 16 + 16 * len(constituents))
    if layout_version < version(1, 1):
        # v1.0: 8-bit attributes at byte 2, byte 3 and bytes 24..27 reserved.
        struct.pack_into("<HB", out, 0, sender, attributes)
        struct.pack_into("<IQQ", out, 4, flags, handle, tag)
        struct.pack_into("<I", out, 28, len(receivers))
    else:
        struct.pack_into("<HHIQQIII", out, 0, sender, attributes, flags, handle, tag, emad_size,
                         len(receivers), header)
    for i, (endpoint, access) in enumerate(receivers):
        # EMAD: endpoint (u16), permissions (u8), flags (u8), composite offset (u32), reserved.
        struct.pack_into("<HBBI", out, header + i * emad_size, endpoint, access, 0, composite)
    total = 0
    for i, (address, pages) in enumerate(constituents):
        if address % PAGE:
            raise ValueError("constituents[%d]: address 0x%x is not 4 KiB aligned" % (i, address))
        struct.pack_into("<QI", out, composite + 16 + 16 * i, address, pages)
        total += pages
    struct.pack_into("<II", out, composite, total, len(constituents))
    return bytes(out)


class PartitionEntry:
    """One FFA_PARTITION_INFO_GET descriptor from the RX buffer."""

    def __init__(self, endpoint, contexts, properties, uuid):
        self.id = endpoint
        self.execution_contexts = contexts
        self.properties = properties
        self.uuid = uuid

    def __repr__(self):
        return "PartitionEntry(id=0x%x, execution_contexts=%d, properties=0x%x, uuid=%s)" % (
            self.id, self.execution_contexts, self.properties, self.uuid)


def parse_partition_info(data, count, size):
    """Entries of `size` bytes (8 at v1.0, 24 from v1.1, 48 for v1.3 callers); the UUID is in canonical order."""
    entries = []
    for i in range(count):
        entry = data[i * size:(i + 1) * size]
        endpoint, contexts = struct.unpack_from("<HH", entry, 0)
        properties = struct.unpack_from("<I", entry, 4)[0]
        raw = bytes(entry[8:24]) if size >= 24 else bytes(16)
        entries.append(PartitionEntry(endpoint, contexts, properties, _uuid.UUID(bytes=raw)))
    return entries
