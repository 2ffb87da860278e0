#!/usr/bin/env bash
# Installs the Debian packages WeasyPrint and the tests need, when running as root on Debian.
# Elsewhere it only says what is missing. Given package names as arguments, it sees to those instead
# (scripts/citus-build.sh: what building Citus needs).
set -eu
PKGS="${*:-libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk poppler-utils chromium}"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing system packages:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "missing system packages (install them as root):$missing" >&2
fi
