#!/usr/bin/env bash
# Makes a Docker engine usable for the container tests (tests/Spmc.Container.Tests) and for
# `docker-compose up`, on a fresh Debian 12 machine with the .NET 10 SDK. Idempotent: every step is
# skipped when its result is already there, so a second run takes a few seconds.
#
#   1. installs docker.io, docker-compose (1.29), debootstrap, iptables and curl with apt-get when missing;
#   2. starts dockerd in the background when no engine answers (log: $SPMC_DOCKERD_LOG), bounded wait,
#      and records its pid in $SPMC_DOCKERD_PIDFILE; an engine that already answers is left as it is;
#   3. when the base image the Dockerfile names (mcr.microsoft.com/dotnet/aspnet:10.0) is absent, builds
#      a local STAND-IN under that exact tag (or pulls the real one when SPMC_DOCKER_PULL=1, for machines
#      that reach the registry; here none is reachable): a Debian bookworm minbase
#      root file system (debootstrap) plus this machine's ASP.NET Core runtime from /usr/share/dotnet.
#      The root file system is cached as a tarball under $SPMC_DOCKER_CACHE;
#   4. checks that a port published on 127.0.0.1 reaches a container (bridge networking + docker-proxy);
#   5. removes containers and test images left by test runs that were killed (older than an hour);
#   6. validates docker-compose.yml with `docker-compose config`.
#
# The SDK image (mcr.microsoft.com/dotnet/sdk:10.0) gets no stand-in: here images are built with
# `--target prebuilt` from a `dotnet publish` done on the host (the test fixture does it), so no
# network is needed inside a container. Users with registry access get the real images.
#
# Exit status: 0 when the engine works. Non-zero otherwise; scripts/test.sh then fails under CI=true
# and prints a NOTE that the container tests were not run otherwise.
# Standard output: `export SPMC_DOCKERD_STARTED=PID` when this run started dockerd (scripts/test.sh reads it
# and stops that dockerd at its end), nothing otherwise. Messages go to standard error.
#
#   scripts/docker-setup.sh --plan   one line saying what a run would install and start here; changes nothing
#   scripts/docker-setup.sh --stop   stops the dockerd a run of this script started (its pid file), if it
#                                    still runs; a dockerd started any other way is never touched
#
# Environment: SPMC_DOCKER_CACHE (cache directory), SPMC_DOCKERD_LOG (dockerd's log file),
# SPMC_DOCKER_WAIT (seconds to wait for dockerd, default 60), SPMC_ASPNET_IMAGE (tag of the base image),
# SPMC_DOCKER_PULL=1 (pull the real base image instead of building the stand-in), SPMC_DOCKERD_PIDFILE
# (where the pid of a dockerd this script started is kept).
set -euo pipefail
cd "$(dirname "$0")/.."

ASPNET_IMAGE="${SPMC_ASPNET_IMAGE:-mcr.microsoft.com/dotnet/aspnet:10.0}"
DOTNET_ROOT_DIR="${DOTNET_ROOT:-/usr/share/dotnet}"
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/spmc-docker; default_log=/var/log/spmc-dockerd.log
else default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/spmc-docker"; default_log="$default_cache/dockerd.log"; fi
CACHE="${SPMC_DOCKER_CACHE:-$default_cache}"
DOCKERD_LOG="${SPMC_DOCKERD_LOG:-$default_log}"
WAIT="${SPMC_DOCKER_WAIT:-60}"
PIDFILE="${SPMC_DOCKERD_PIDFILE:-$CACHE/dockerd-started.pid}"
# The reaper (ryuk) image cannot be pulled here; the test fixture removes what it starts itself.
export TESTCONTAINERS_RYUK_DISABLED=true

say() { echo "docker-setup: $*" >&2; }
fail() {
  say "FAILED: $*"
  if [ "${CI:-}" = "true" ]; then say "CI=true: the container tests cannot run, which counts as a failure."; fi
  exit 1
}
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif [ -n "$SUDO" ]; then $SUDO "$@"; else return 1; fi; }
started=$(date +%s)
mode="${1:-}"
case "$mode" in ""|--plan|--stop) ;; *) say "unknown argument $mode (--plan, --stop)"; exit 2 ;; esac

# --stop: the dockerd recorded in the pid file, only while that pid is still a dockerd.
if [ "$mode" = --stop ]; then
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -z "$pid" ]; then say "no dockerd started by this script is recorded ($PIDFILE)"; exit 0; fi
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
    say "the dockerd this script started (pid $pid) no longer runs"; rm -f "$PIDFILE"; exit 0
  fi
  say "stopping the dockerd this script started (pid $pid)"
  as_root kill "$pid" || fail "cannot signal dockerd $pid"
  for _ in $(seq 1 60); do [ -d "/proc/$pid" ] || { rm -f "$PIDFILE"; say "dockerd $pid stopped"; exit 0; }; sleep 0.5; done
  fail "dockerd $pid still runs 30 s after SIGTERM"
fi

# --- 1. packages -------------------------------------------------------------------------------
missing=()
[ -x /usr/sbin/dockerd ] || command -v dockerd >/dev/null || missing+=(docker.io)
[ -x /usr/bin/docker ] || command -v docker >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
[ -x /usr/sbin/debootstrap ] || command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -x /usr/sbin/iptables ] || command -v iptables >/dev/null || missing+=(iptables)
command -v curl >/dev/null || missing+=(curl)
if [ "$mode" = --plan ]; then
  plan=()
  [ ${#missing[@]} -eq 0 ] || plan+=("installs ${missing[*]} (apt-get)")
  dk_plan=docker; [ -x /usr/bin/docker ] && dk_plan=/usr/bin/docker
  if ! "$dk_plan" info >/dev/null 2>&1; then
    plan+=("starts dockerd as root (stopped at the end of scripts/test.sh unless SPMC_KEEP_DOCKERD=1)")
    plan+=("builds a local stand-in for $ASPNET_IMAGE if absent")
  elif ! "$dk_plan" image inspect "$ASPNET_IMAGE" >/dev/null 2>&1; then
    plan+=("uses the running dockerd (left running)" "builds a local stand-in for $ASPNET_IMAGE")
  else
    plan+=("uses the running dockerd (left running) and its $ASPNET_IMAGE")
  fi
  line=$(printf '%s; ' "${plan[@]}"); echo "Docker (scripts/docker-setup.sh): ${line%; }"
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         "${missing[@]}" ca-certificates >/dev/null \
    || fail "apt-get install ${missing[*]} failed (root or password-less sudo is needed)"
fi
# Prefer Debian's CLI, which matches the Debian engine (20.10); any newer `docker` on PATH also works.
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
dk() { "$DOCKER" "$@"; }

# --- 2. engine ---------------------------------------------------------------------------------
engine_ok() { dk info >/dev/null 2>&1; }
started_flags="-"   # "-": this run did not start dockerd
start_dockerd() {   # $@: extra dockerd flags
  mkdir -p "$(dirname "$DOCKERD_LOG")" 2>/dev/null || true
  # A pid file left by a dockerd that was killed makes the next one refuse to start. (/proc, not kill -0: as
  # non-root, kill -0 on root's dockerd fails with EPERM and would call it dead.)
  local old_pid; old_pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -f /var/run/docker.pid ] && { [ -z "$old_pid" ] || ! [ -d "/proc/$old_pid" ]; }; then
    as_root rm -f /var/run/docker.pid
  fi
  say "starting dockerd $* (log: $DOCKERD_LOG)"
  echo "=== $(date -u +%FT%TZ) dockerd $*" >>"$DOCKERD_LOG"
  # setsid + nohup: the engine outlives this script and the test run, like a service would.
  as_root setsid nohup dockerd "$@" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  started_flags="$*"
  local i
  for ((i = 0; i < WAIT; i++)); do
    engine_ok && { say "engine up after ${i}s"; return 0; }
    # dockerd gave up: no point waiting for it.
    if [ $i -gt 2 ] && ! pidof dockerd >/dev/null; then break; fi
    sleep 1
  done
  say "dockerd did not answer; last lines of its log:"; tail -n 15 "$DOCKERD_LOG" >&2 || true
  return 1
}
stop_our_dockerd() {
  local pid; pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  as_root kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do [ -d "/proc/$pid" ] || return 0; sleep 0.5; done
}

if engine_ok; then
  say "engine already running ($(dk version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
elif [ -n "${DOCKER_HOST:-}" ]; then
  fail "DOCKER_HOST=$DOCKER_HOST does not answer"
else
  # Default flags first: iptables NAT + the docker0 bridge. If this kernel lacks what iptables needs,
  # --iptables=false still publishes ports: docker-proxy (the userland proxy) listens on the host and
  # forwards to the container over the bridge, and the host reaches the bridge without NAT. Only the
  # containers' own outbound traffic would be lost, which nothing here needs (builds copy a host-side
  # publish). --bridge=none is NOT a fallback: without a bridge no port can be published.
  start_dockerd || { stop_our_dockerd; start_dockerd --iptables=false; } \
    || fail "no Docker engine could be started (see $DOCKERD_LOG)"
fi
# Record a dockerd this run started, so that `--stop` (and scripts/test.sh at its end) can stop exactly it.
record_dockerd() {
  local pid; pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ "$started_flags" != - ] && [ -n "$pid" ]; then mkdir -p "$(dirname "$PIDFILE")" && echo "$pid" >"$PIDFILE"; fi
}
record_dockerd

# --- 3. base image stand-in --------------------------------------------------------------------
runtime_version() { ls "$DOTNET_ROOT_DIR/shared/Microsoft.AspNetCore.App" 2>/dev/null | sort -V | tail -n 1; }
build_aspnet_standin() {
  local aspnet netcore rootfs tarball tmp
  aspnet=$(runtime_version)
  netcore=$(ls "$DOTNET_ROOT_DIR/shared/Microsoft.NETCore.App" 2>/dev/null | sort -V | tail -n 1)
  [ -n "$aspnet" ] && [ -n "$netcore" ] || fail "no ASP.NET Core runtime under $DOTNET_ROOT_DIR/shared"
  [ -x "$DOTNET_ROOT_DIR/dotnet" ] || fail "no dotnet host at $DOTNET_ROOT_DIR/dotnet"
  mkdir -p "$CACHE"
  tarball="$CACHE/aspnet-$aspnet-bookworm-rootfs.tar"
  if [ ! -s "$tarball" ]; then
    say "building the rootfs of $ASPNET_IMAGE (debootstrap bookworm minbase + ASP.NET Core $aspnet); cached at $tarball"
    tmp=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    rootfs="$tmp/rootfs"
    local mirror; mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
    # The packages the real aspnet image has besides the base system (ICU is left out: Spmc runs with
    # InvariantGlobalization). perl-base (essential) serves the port check below.
    as_root debootstrap --variant=minbase --include=ca-certificates,libssl3,tzdata,zlib1g,libstdc++6,libgcc-s1 \
      bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >"$tmp/debootstrap.log" 2>&1 \
      || { tail -n 20 "$tmp/debootstrap.log" >&2; as_root rm -rf "$tmp"; fail "debootstrap failed"; }
    # Trim what a runtime image does not need.
    as_root rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
      "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
      "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/debootstrap
    # The runtime the way the real image lays it out: /usr/share/dotnet, /usr/bin/dotnet -> it.
    local d="$rootfs/usr/share/dotnet"
    as_root mkdir -p "$d/shared" "$d/host"
    as_root cp -a "$DOTNET_ROOT_DIR/dotnet" "$DOTNET_ROOT_DIR/LICENSE.txt" "$DOTNET_ROOT_DIR/ThirdPartyNotices.txt" "$d/" 2>/dev/null \
      || as_root cp -a "$DOTNET_ROOT_DIR/dotnet" "$d/"
    as_root cp -a "$DOTNET_ROOT_DIR/host/fxr" "$d/host/"
    as_root mkdir -p "$d/shared/Microsoft.NETCore.App" "$d/shared/Microsoft.AspNetCore.App"
    as_root cp -a "$DOTNET_ROOT_DIR/shared/Microsoft.NETCore.App/$netcore" "$d/shared/Microsoft.NETCore.App/"
    as_root cp -a "$DOTNET_ROOT_DIR/shared/Microsoft.AspNetCore.App/$aspnet" "$d/shared/Microsoft.AspNetCore.App/"
    as_root ln -sf /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"
    # The non-root user of the real images: app, UID/GID 1654 ($APP_UID).
    as_root chroot "$rootfs" groupadd --gid 1654 app
    as_root chroot "$rootfs" useradd --uid 1654 --gid 1654 --create-home --shell /bin/false app
    as_root tar --numeric-owner -C "$rootfs" -cf "$tarball.part" . && as_root mv "$tarball.part" "$tarball"
    as_root rm -rf "$tmp"
  fi
  say "importing $tarball as $ASPNET_IMAGE"
  dk import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV APP_UID=1654" \
    --change "ENV ASPNETCORE_HTTP_PORTS=8080" \
    --change "ENV DOTNET_RUNNING_IN_CONTAINER=true" \
    --change "ENV DOTNET_VERSION=$netcore" \
    --change "ENV ASPNET_VERSION=$aspnet" \
    --change "LABEL org.opencontainers.image.description=\"local stand-in for $ASPNET_IMAGE built by scripts/docker-setup.sh\"" \
    --change "LABEL $STANDIN_LABEL=$aspnet" \
    --change "CMD [\"bash\"]" \
    "$tarball" "$ASPNET_IMAGE" >/dev/null || fail "docker import failed"
}
STANDIN_LABEL=org.spmc.standin-runtime   # on stand-ins only: the ASP.NET Core runtime version inside
present_runtime=$(dk image inspect -f "{{index .Config.Labels \"$STANDIN_LABEL\"}}" "$ASPNET_IMAGE" 2>/dev/null) || present_runtime=absent
if [ "$present_runtime" != absent ] && { [ -z "$present_runtime" ] || [ "$present_runtime" = "$(runtime_version)" ]; }; then
  say "$ASPNET_IMAGE present${present_runtime:+ (stand-in, ASP.NET Core $present_runtime)}"
elif [ "${SPMC_DOCKER_PULL:-}" = 1 ] && timeout 120 "$DOCKER" pull -q "$ASPNET_IMAGE" >/dev/null; then
  say "$ASPNET_IMAGE pulled from its registry"
else
  # Absent, or a stand-in of another runtime than this machine's (the SDK was updated): (re)build it.
  [ "$present_runtime" = absent ] || say "$ASPNET_IMAGE is a stand-in of ASP.NET Core $present_runtime; this machine has $(runtime_version)"
  build_aspnet_standin
fi

# --- 4. published ports reach a container ------------------------------------------------------
# A throw-away listener (perl-base is in every Debian/Ubuntu image) on a port published on 127.0.0.1.
port_check() {
  local cid port line ok=1
  cid=$(dk run -d --rm -p 127.0.0.1::7070 --entrypoint perl "$ASPNET_IMAGE" -MIO::Socket::INET -e \
    '$s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => 7070, Listen => 5, ReuseAddr => 1) or die $!;
     $SIG{TERM} = sub { exit 0 }; while ($c = $s->accept) { print $c "spmc-port-check\n"; close $c }') || return 1
  port=$(dk port "$cid" 7070/tcp | head -n 1 | sed 's/.*://')
  for _ in $(seq 1 20); do
    line=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && head -n 1 <&3" 2>/dev/null || true)
    if [ "$line" = "spmc-port-check" ]; then ok=0; break; fi
    sleep 0.5
  done
  dk rm -f "$cid" >/dev/null 2>&1 || true
  return $ok
}
if port_check; then
  say "a port published on 127.0.0.1 reaches its container"
elif [ "$started_flags" = "" ]; then
  say "published ports do not work with iptables NAT; restarting dockerd with --iptables=false (docker-proxy only)"
  stop_our_dockerd
  start_dockerd --iptables=false && record_dockerd && port_check || fail "published ports do not reach containers"
else
  fail "published ports do not reach containers (dockerd: ${started_flags/#-/not started here})"
fi

# --- 5. leftovers of interrupted test runs -----------------------------------------------------
# The test fixture removes what it starts; a run that was killed cannot, and no reaper (ryuk) runs here.
# Only what is more than an hour old goes, so that a test run going on right now keeps its containers.
stale_before=$(( $(date +%s) - 3600 ))
while IFS=$'\t' read -r id created; do
  [ -n "$id" ] || continue
  if [ "$(date -d "${created% [A-Z]*}" +%s 2>/dev/null || echo "$stale_before")" -lt "$stale_before" ]; then
    dk rm -f "$id" >/dev/null 2>&1 && say "removed container $id left by an interrupted test run"
  fi
done < <(dk ps -a --filter label=org.spmc.container-tests --format '{{.ID}}	{{.CreatedAt}}' 2>/dev/null)
while IFS=$'\t' read -r ref created; do
  [ -n "$ref" ] || continue
  if [ "$(date -d "${created% [A-Z]*}" +%s 2>/dev/null || echo "$stale_before")" -lt "$stale_before" ]; then
    dk rmi -f "$ref" >/dev/null 2>&1 && say "removed image $ref left by an interrupted test run"
  fi
done < <(dk images spmc-container-tests --format '{{.Repository}}:{{.Tag}}	{{.CreatedAt}}' 2>/dev/null)
# The README test's (tests/Spmc.Container.Tests/ReadmeContainerSectionTests.cs): named spmc-readme-<run id>.
while IFS=$'\t' read -r name created; do
  [ -n "$name" ] || continue
  if [ "$(date -d "${created% [A-Z]*}" +%s 2>/dev/null || echo "$stale_before")" -lt "$stale_before" ]; then
    dk rm -f "$name" >/dev/null 2>&1 && say "removed container $name left by an interrupted test run"
  fi
done < <(dk ps -a --filter name=spmc-readme- --format '{{.Names}}	{{.CreatedAt}}' 2>/dev/null)
while IFS=$'\t' read -r ref created; do
  case "$ref" in spmc-readme-*) ;; *) continue ;; esac
  if [ "$(date -d "${created% [A-Z]*}" +%s 2>/dev/null || echo "$stale_before")" -lt "$stale_before" ]; then
    dk rmi -f "$ref" >/dev/null 2>&1 && say "removed image $ref left by an interrupted test run"
  fi
done < <(dk images --format '{{.Repository}}:{{.Tag}}	{{.CreatedAt}}' 2>/dev/null)

# --- 6. compose file ---------------------------------------------------------------------------
if command -v docker-compose >/dev/null; then
  docker-compose -f docker-compose.yml config -q || fail "docker-compose.yml is not valid"
  say "docker-compose.yml is valid"
fi

if [ "$started_flags" != - ] && [ -s "$PIDFILE" ]; then
  say "dockerd started by this run (pid $(cat "$PIDFILE")); stop it with scripts/docker-setup.sh --stop"
  echo "export SPMC_DOCKERD_STARTED=$(cat "$PIDFILE")"
fi
say "ready in $(( $(date +%s) - started ))s (export TESTCONTAINERS_RYUK_DISABLED=true when running dotnet test yourself)"
