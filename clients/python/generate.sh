#!/usr/bin/env bash
# Generates the Python gRPC stubs of protos/spmc/v1 into clients/python/build/gen (git-ignored), installing the
# Debian packages it needs when they are missing (apt-get; root or password-less sudo). Idempotent and quiet:
# a second run only regenerates (a second or so). Prints the output directory on its last line.
#
# Packages: protobuf-compiler (protoc 3.21), protobuf-compiler-grpc (grpc_python_plugin 1.51), and the runtime
# python3-grpcio (1.51) and python3-protobuf (3.21), all for Debian's /usr/bin/python3. python3-grpc-tools (1.14)
# is not used: the protoc it embeds (3.6) refuses proto3 `optional` fields, which these protos use.
#
# Environment: SPMC_PY_GEN (output directory, default clients/python/build/gen).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${SPMC_PY_GEN:-$here/build/gen}"
say() { echo "generate.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1; fi
}

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
[ -x /usr/bin/grpc_python_plugin ] || missing+=(protobuf-compiler-grpc)
/usr/bin/python3 -c 'import grpc' 2>/dev/null || missing+=(python3-grpcio)
/usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || missing+=(python3-protobuf)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2> >(grep -v "^debconf:" >&2) \
    || { say "FAILED: apt-get install ${missing[*]} (root or password-less sudo is needed)"; exit 1; }
fi

rm -rf "$out" && mkdir -p "$out"
protoc -I"$repo/protos" --python_out="$out" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin --grpc_python_out="$out" \
  "$repo"/protos/spmc/v1/*.proto
# Check the stubs import with the runtime they will run on.
PYTHONPATH="$out" /usr/bin/python3 -c 'from spmc.v1 import smc_pb2_grpc, systems_pb2_grpc, memory_pb2_grpc, inspector_pb2_grpc' \
  || { say "FAILED: the generated stubs do not import with /usr/bin/python3"; exit 1; }
echo "$out"
