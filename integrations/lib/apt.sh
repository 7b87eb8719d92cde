# shellcheck shell=bash
# Sourced by the integrations' build scripts: installs host packages and downloads Debian packages (arm64
# binaries, source packages) through a private apt configuration, so the machine's own source lists and
# architectures are left as they were. Everything it downloads lands in the cache ($SPMC_CACHE).

SPMC_CACHE="${SPMC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spmc}"
spmc_apt_dir="$SPMC_CACHE/apt"
spmc_apt_updated=""

# Installs host packages that are missing (as root, or through sudo). apt waits for a held dpkg lock.
spmc_apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing host packages: ${missing[*]}" >&2
  if [ -z "$spmc_apt_updated" ]; then
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || return 1
    spmc_apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# The private configuration: bookworm, its updates, security and backports; binary (amd64, arm64) and source.
spmc_apt_opts() {
  printf '%s\n' -o "Dir::Etc::sourcelist=$spmc_apt_dir/sources.list" -o "Dir::Etc::sourceparts=/dev/null" \
    -o "Dir::State::Lists=$spmc_apt_dir/lists" -o "Dir::Cache::Archives=$spmc_apt_dir/archives" \
    -o "Dir::State::status=$spmc_apt_dir/status" \
    -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64" -o "Debug::NoLocking=1" \
    -o "APT::Sandbox::User=root"
}

# Refreshes the private lists when they are missing or older than a day (now, with SPMC_APT_REFRESH=1). Runs
# that share the cache take turns (apt's own locking is off here). When the archive cannot be reached but lists
# are there, they are used as they are, so a run whose artefacts are cached needs no network.
spmc_apt_private_update() {
  mkdir -p "$spmc_apt_dir/lists/partial" "$spmc_apt_dir/archives/partial"
  touch "$spmc_apt_dir/status"
  local list="$spmc_apt_dir/sources.list" stamp="$spmc_apt_dir/lists/.updated" s
  (
    flock -w 900 8 || { echo "apt: $spmc_apt_dir/.lock is held by another run" >&2; exit 1; }
    {
      for s in bookworm bookworm-updates bookworm-backports; do
        printf 'deb%s [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian %s main\n' \
          "" "$s" -src "$s"
      done
      printf 'deb%s [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main\n' \
        "" -src
    } > "$list.tmp"
    if cmp -s "$list.tmp" "$list"; then rm -f "$list.tmp"; else mv "$list.tmp" "$list"; rm -f "$stamp"; fi
    [ "${SPMC_APT_REFRESH:-}" = 1 ] && rm -f "$stamp"
    [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ] || exit 0
    # After a failed refresh, the next ten minutes use the lists as they are (one build asks apt several times).
    [ -n "$(find "$stamp.failed" -mmin -10 2>/dev/null)" ] && [ "${SPMC_APT_REFRESH:-}" != 1 ] && exit 0
    # shellcheck disable=SC2046
    if apt-get $(spmc_apt_opts) --error-on=any -o Acquire::Retries=1 -o Acquire::http::Timeout=20 update -qq >&2; then
      touch "$stamp"; rm -f "$stamp.failed"
    elif compgen -G "$spmc_apt_dir/lists/*_Packages*" >/dev/null; then
      touch "$stamp.failed"
      echo "apt: the archive could not be reached: using the package lists of $(date -r "$stamp" '+%F %R' 2>/dev/null || echo 'an earlier run')" >&2
    else
      echo "apt: the archive could not be reached and there are no package lists in $spmc_apt_dir/lists" >&2
      exit 1
    fi
  ) 8>"$spmc_apt_dir/.lock"
}

# Runs apt-get (download, source --download-only, ...) or apt-cache with the private configuration.
spmc_apt_get() { spmc_apt_private_update || return 1; apt-get $(spmc_apt_opts) "$@"; }
spmc_apt_cache() { spmc_apt_private_update || return 1; apt-cache $(spmc_apt_opts) "$@"; }
