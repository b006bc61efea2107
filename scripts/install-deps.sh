#!/usr/bin/env bash
# Installs the system packages Parley needs on Debian/Ubuntu, only those missing.
#   scripts/install-deps.sh          PostgreSQL server + libpq (build and run)
#   scripts/install-deps.sh --test   also Chromium and chromedriver (browser tests)
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -e /usr/include/postgresql/libpq-fe.h ] || need+=(libpq-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v chromedriver >/dev/null || need+=(chromium-driver)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "Missing packages: ${need[*]}. Install them as root: apt-get install ${need[*]}" >&2; exit 1
  fi
else SUDO=""; fi
echo "Installing: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >&2
