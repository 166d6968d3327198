#!/usr/bin/env bash
# Makes sure a memcached binary is available; prints its path.
# Installs the Debian/Ubuntu package when run as root; otherwise explains how to install it.
set -euo pipefail

find_memcached() {
  if [[ -n "${MEMCACHED_BIN:-}" && -x "${MEMCACHED_BIN}" ]]; then
    echo "${MEMCACHED_BIN}"
  elif command -v memcached >/dev/null 2>&1; then
    command -v memcached
  elif [[ -x /usr/bin/memcached ]]; then
    echo /usr/bin/memcached
  else
    return 1
  fi
}

if find_memcached; then
  exit 0
fi

if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
  echo "memcached not found; installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2 && apt-get install -y memcached >&2
  # The Debian package starts a system service on :11211 where a service manager runs; we never rely on it.
  find_memcached && exit 0
  echo "apt-get install memcached finished but no memcached binary was found" >&2
  exit 1
fi

cat >&2 <<'MSG'
memcached (>= 1.6) is required but was not found on PATH or at /usr/bin/memcached.
Install it, then run this again:
  Debian/Ubuntu:  sudo apt-get install memcached
  macOS:          brew install memcached
Or set MEMCACHED_BIN to the path of a memcached binary.
MSG
exit 1
