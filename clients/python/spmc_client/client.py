"""The gRPC client: systems, raw SMC frames, memory, and typed FF-A helpers."""

import json
import os
import sys

from . import ffa


def _load_stubs():
    """Imports the stubs generate.sh wrote (SPMC_PY_GEN, default clients/python/build/gen)."""
    gen = os.environ.get("SPMC_PY_GEN") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                        "build", "gen")
    if gen not in sys.path:
        sys.path.insert(0, gen)
    try:
        import grpc  # noqa: F401  (Debian: python3-grpcio)
        from spmc.v1 import (inspector_pb2, inspector_pb2_grpc, memory_pb2, memory_pb2_grpc, smc_pb2,
                             smc_pb2_grpc, systems_pb2, systems_pb2_grpc)
    except ImportError as e:
        raise ImportError(
            "spmc_client needs the generated stubs and Debian's python3-grpcio/python3-protobuf: run "
            "clients/python/generate.sh and use /usr/bin/python3 (%s)" % e) from e
    return grpc, inspector_pb2, inspector_pb2_grpc, memory_pb2, memory_pb2_grpc, smc_pb2, smc_pb2_grpc, \
        systems_pb2, systems_pb2_grpc


(grpc, inspector_pb2, inspector_pb2_grpc, memory_pb2, memory_pb2_grpc, smc_pb2, smc_pb2_grpc, systems_pb2,
 systems_pb2_grpc) = _load_stubs()


class SpmcError(Exception):
    """A call the service refused: `code` is the gRPC status name ("InvalidArgument", "NotFound", ...)."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class ServerUnavailable(SpmcError):
    """No Spmc answers at the target (not started, wrong port)."""


class FfaError(Exception):
    """A typed helper got an answer other than the one it expected; `answer` holds the registers, decoded."""

    def __init__(self, what, answer):
        d = answer.decoded
        detail = d.error or d.result
        if d.rule:
            detail += ", rule %s" % d.rule
        if d.reason:
            detail += ": %s" % d.reason
        super().__init__("%s answered %s" % (what, detail))
        self.answer = answer


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


class Answer:
    """An SMC answer: x0..x17, the reads taken after the call, and the service's decoded view."""

    def __init__(self, response):
        self.response = response
        self.x = list(response.x) + [0] * (18 - len(response.x))
        self.decoded = response.decoded
        self.reads = [r.data if not r.error else None for r in response.reads]
        self.read_errors = [r.error for r in response.reads]
        self.events = list(response.events)

    @property
    def error(self):
        """The FF-A error name ("DENIED") or None."""
        return self.decoded.error if self.decoded.HasField("error") else None

    @property
    def ok(self):
        return self.error is None and self.x[0] != ffa.FFA_ERROR

    def w(self, i):
        """Register i as 32 bits (what an SMC32 function answers in w<i>)."""
        return self.x[i] & 0xFFFFFFFF

    def __str__(self):
        d = self.decoded
        text = "%s (%s) -> %s" % (d.function, d.width, d.result)
        if d.HasField("error"):
            text += " %s" % d.error
        if d.HasField("rule"):
            text += " [%s]" % d.rule
        if d.HasField("reason"):
            text += ": %s" % d.reason
        return text


def _grpc_error(e, target):
    code = e.code()
    name = _camel(code.name.lower()) if code is not None else "Unknown"
    name = name[0].upper() + name[1:]
    if code == grpc.StatusCode.UNAVAILABLE:
        return ServerUnavailable(name, "no Spmc answers at %s (is the server running? start it with "
                                       "`dotnet run --project src/Spmc.Server`): %s" % (target, e.details()))
    return SpmcError(name, e.details() or "")


class Spmc:
    """A connection to Spmc's gRPC endpoint, e.g. Spmc("127.0.0.1:5081").

    token: the bearer token sent for systems this client holds no token of (the operator's, a client's or one
    system's; docs/security.md). A system created here is called with the token its creation answered.
    """

    def __init__(self, target="127.0.0.1:5081", timeout=10.0, token=None):
        self.target = target
        self.timeout = timeout
        self.token = token or None
        self.tokens = {}
        self._channel = grpc.insecure_channel(target)
        self._systems = systems_pb2_grpc.SystemsStub(self._channel)
        self._smc = smc_pb2_grpc.SmcGatewayStub(self._channel)
        self._memory = memory_pb2_grpc.MemoryStub(self._channel)
        self._inspector = inspector_pb2_grpc.InspectorStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _metadata(self, request):
        system = None
        for field in ("system_id", "id"):
            if field in request.DESCRIPTOR.fields_by_name:
                system = getattr(request, field)
                break
        token = self.tokens.get(system) or self.token
        return (("authorization", "Bearer " + token),) if token else None

    def _rpc(self, method, request):
        try:
            return method(request, timeout=self.timeout, metadata=self._metadata(request))
        except grpc.RpcError as e:
            raise _grpc_error(e, self.target) from None

    # --- systems -------------------------------------------------------------------------------------------------
    def create_system(self, manifest=None, path=None, id="", record=False, debug=False):
        """Creates a system from a manifest (a dict, a JSON string, or a file with `path`); returns SystemInfo.

        With access tokens on, SystemInfo.token opens the system: this client keeps it in `tokens` and uses it.
        debug: the token may also read and write memory as the SPMC."""
        if (manifest is None) == (path is None):
            raise ValueError("give exactly one of manifest and path")
        if path is not None:
            with open(path, encoding="utf-8") as f:
                manifest = f.read()
        if not isinstance(manifest, str):
            manifest = json.dumps(manifest)
        info = self._rpc(self._systems.Create,
                         systems_pb2.CreateSystemRequest(id=id, manifest_json=manifest, record=record, debug=debug))
        if info.token:
            self.tokens[info.id] = info.token
        return info

    def get_system(self, id):
        return self._rpc(self._systems.Get, systems_pb2.GetSystemRequest(id=id))

    def list_systems(self):
        return list(self._rpc(self._systems.List, systems_pb2.ListSystemsRequest()).systems)

    def delete_system(self, id):
        self._rpc(self._systems.Delete, systems_pb2.DeleteSystemRequest(id=id))
        self.tokens.pop(id, None)

    def state(self, id):
        """The system's state (SystemState: endpoints, memory, shares, console, proxy)."""
        return self._rpc(self._inspector.GetState, inspector_pb2.GetStateRequest(system_id=id))

    # --- frames and memory ---------------------------------------------------------------------------------------
    def call(self, system, caller=0, x=(), vcpu=0, conduit="smc", writes=(), reads=()):
        """One SMC frame: x0..x17 (missing ones are zero). writes: [(address, bytes)] applied as the caller
        before the call; reads: [(address, length)] taken after it (Answer.reads)."""
        if len(x) > 18:
            raise ValueError("x: at most 18 registers, got %d" % len(x))
        request = smc_pb2.SmcRequest(
            system_id=system, caller=caller, vcpu=vcpu,
            conduit=smc_pb2.CONDUIT_HVC if conduit == "hvc" else smc_pb2.CONDUIT_SMC,
            x=[int(v) & 0xFFFFFFFFFFFFFFFF for v in x],
            writes=[smc_pb2.MemoryWrite(address=a, data=bytes(d)) for a, d in writes],
            reads=[smc_pb2.MemoryReadRequest(address=a, length=n) for a, n in reads])
        return Answer(self._rpc(self._smc.Call, request))

    def read_memory(self, system, address, length, as_endpoint=0):
        response = self._rpc(self._memory.Read, memory_pb2.ReadMemoryRequest(
            system_id=system, address=address, length=length, as_endpoint=as_endpoint))
        return response.data

    def write_memory(self, system, address, data, as_endpoint=0):
        self._rpc(self._memory.Write, memory_pb2.WriteMemoryRequest(
            system_id=system, address=address, data=bytes(data), as_endpoint=as_endpoint))

    # --- typed FF-A helpers (raise FfaError when the answer is not the expected one) --------------------------------
    def version(self, system, caller, requested="1.2"):
        """FFA_VERSION; returns the answered version as "major.minor"."""
        answer = self.call(system, caller, [ffa.FFA_VERSION, ffa.parse_version(requested)])
        w0 = answer.w(0)
        if w0 & 0x80000000:
            raise FfaError("FFA_VERSION(%s)" % requested, answer)
        return "%d.%d" % (w0 >> 16, w0 & 0xFFFF)

    def _expect(self, what, answer, *functions):
        if answer.w(0) not in functions and answer.x[0] not in functions:
            raise FfaError(what, answer)
        return answer

    def rxtx_map(self, system, caller, tx, rx, pages=1):
        return self._expect("FFA_RXTX_MAP_64", self.call(system, caller, [ffa.FFA_RXTX_MAP_64, tx, rx, pages]),
                            ffa.FFA_SUCCESS_32)

    def rxtx_unmap(self, system, caller):
        return self._expect("FFA_RXTX_UNMAP", self.call(system, caller, [ffa.FFA_RXTX_UNMAP]), ffa.FFA_SUCCESS_32)

    def rx_release(self, system, caller):
        return self._expect("FFA_RX_RELEASE", self.call(system, caller, [ffa.FFA_RX_RELEASE]), ffa.FFA_SUCCESS_32)

    def partition_info_get(self, system, caller, rx, uuid=None, release=True):
        """FFA_PARTITION_INFO_GET (nil UUID: every partition); reads the entries from the caller's RX buffer at
        `rx` and releases it. Returns [PartitionEntry]."""
        words = [0, 0, 0, 0]
        if uuid is not None:
            import struct
            import uuid as _uuid
            words = list(struct.unpack("<4I", _uuid.UUID(str(uuid)).bytes))
        answer = self._expect("FFA_PARTITION_INFO_GET",
                              self.call(system, caller, [ffa.FFA_PARTITION_INFO_GET] + words + [0],
                                        reads=[(rx, ffa.PAGE)]),
                              ffa.FFA_SUCCESS_32)
        count, size = answer.w(2), answer.w(3) or 8
        if answer.reads[0] is None:
            raise SpmcError("PermissionDenied", "reading RX 0x%x: %s" % (rx, answer.read_errors[0]))
        entries = ffa.parse_partition_info(answer.reads[0], count, size)
        if release:
            self.rx_release(system, caller)
        return entries

    def direct_request(self, system, caller, receiver, payload=(), smc64=False, sender=None):
        """FFA_MSG_SEND_DIRECT_REQ_32/64 with up to five payload words (w3..w7); returns the response Answer
        (its payload: answer.x[3:8])."""
        if len(payload) > 5:
            raise ValueError("payload: at most 5 words, got %d" % len(payload))
        sender = caller if sender is None else sender
        function = ffa.FFA_MSG_SEND_DIRECT_REQ_64 if smc64 else ffa.FFA_MSG_SEND_DIRECT_REQ_32
        response = ffa.FFA_MSG_SEND_DIRECT_RESP_64 if smc64 else ffa.FFA_MSG_SEND_DIRECT_RESP_32
        answer = self.call(system, caller, [function, (sender << 16) | receiver, 0] + list(payload))
        return self._expect("direct request to 0x%x" % receiver, answer, response)

    def mem_send(self, system, caller, tx, descriptor, operation="share"):
        """FFA_MEM_SHARE/LEND/DONATE_32 of a descriptor (memory_descriptor()) written to TX at `tx` in the same
        frame; the descriptor must fit in one fragment (TX). Returns the handle."""
        function = {"share": ffa.FFA_MEM_SHARE_32, "lend": ffa.FFA_MEM_LEND_32,
                    "donate": ffa.FFA_MEM_DONATE_32}.get(operation)
        if function is None:
            raise ValueError("operation: 'share', 'lend' or 'donate', got %r" % operation)
        n = len(descriptor)
        answer = self._expect("FFA_MEM_%s" % operation.upper(),
                              self.call(system, caller, [function, n, n, 0, 0], writes=[(tx, descriptor)]),
                              ffa.FFA_SUCCESS_32)
        return answer.w(2) | (answer.w(3) << 32)

    def mem_reclaim(self, system, caller, handle, flags=0):
        return self._expect("FFA_MEM_RECLAIM",
                            self.call(system, caller, [ffa.FFA_MEM_RECLAIM, handle & 0xFFFFFFFF, handle >> 32, flags]),
                            ffa.FFA_SUCCESS_32)
