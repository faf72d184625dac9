#!/usr/bin/env bash
# Installs what tierback's demo and tests need on a fresh Debian 12 machine (run as root):
# Debian packages via apt-get when missing, then the npm packages from package-lock.json.
# Usage: scripts/install-deps.sh [demo|test]
set -euo pipefail
cd "$(dirname "$0")/.."
want="${1:-test}"

# command -> Debian package
declare -A need=([rsync]=rsync [git]=git [sqlite3]=sqlite3)
if [ "$want" = test ]; then
  need+=([sshd]=openssh-server [ssh]=openssh-client [cvs]=cvs [mariadbd]=mariadb-server [mysqldump]=mariadb-client
         [pg_dump]=postgresql-client [rsnapshot]=rsnapshot
         [influxd]=influxdb [chromium]=chromium [age]=age [rclone]=rclone [mkfs.ext4]=e2fsprogs [promtool]=prometheus [mkfs.btrfs]=btrfs-progs)
fi
missing=()
for cmd in "${!need[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ]; then missing+=("${need[$cmd]}"); fi
done
if [ "$want" = test ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing+=(postgresql); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "tierback: missing packages: ${missing[*]} (install them, or run this as root on Debian)" >&2
    exit 1
  fi
  echo "tierback: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  # Do not start the distribution's own database/ssh services: tests start their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
