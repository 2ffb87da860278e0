#!/usr/bin/env bash
# Build Citus from the vendored source into build/citus/, next to a private copy of the machine's
# PostgreSQL 15 binaries, so test clusters can load it without touching the system PostgreSQL.
# PostgreSQL finds its libraries and extensions relative to its own binary, so a copied bin/ with
# lib/ and share/ beside it (DESTDIR layout) is a complete installation.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# The vendored source sits in shared/ beside the checkout (or beside the folder of worktrees).
SRC_TAR="${CITUS_TARBALL:-}"
for d in "$ROOT/../shared" "$ROOT/../../shared"; do
  [ -z "$SRC_TAR" ] && [ -f "$d/vendor/citus-13.2.2-pg15.tar.gz" ] && SRC_TAR="$d/vendor/citus-13.2.2-pg15.tar.gz"
done
[ -n "$SRC_TAR" ] || { echo "citus: set CITUS_TARBALL to citus-13.2.2-pg15.tar.gz" >&2; exit 1; }
OUT="$ROOT/build/citus"
PGBIN="$(pg_config --bindir)"          # /usr/lib/postgresql/15/bin
PKGLIB="$(pg_config --pkglibdir)"      # /usr/lib/postgresql/15/lib
SHARE="$(pg_config --sharedir)"        # /usr/share/postgresql/15
if [ -x "$OUT$PGBIN/postgres" ] && [ -f "$OUT$PKGLIB/citus.so" ]; then
  echo "citus: already built in $OUT"; exit 0
fi
# What the vendored README lists for the build (installed when root on Debian, else named).
bash "$ROOT/scripts/system-deps.sh" postgresql-server-dev-15 libcurl4-openssl-dev liblz4-dev libzstd-dev \
  libkrb5-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev flex bison
if [ ! -d "$(pg_config --includedir-server)" ]; then
  echo "citus: needs postgresql-server-dev-15 and build tools (see shared/vendor/README.md)" >&2; exit 1
fi
mkdir -p "$ROOT/build/src"
tar xzf "$SRC_TAR" -C "$ROOT/build/src"
cd "$ROOT/build/src/citus-13.2.2"
./configure --quiet >/dev/null
make -s -j2 >/dev/null
make -s install DESTDIR="$OUT" >/dev/null
# The rest of PostgreSQL beside it: binaries copied (a symlinked postgres would resolve back to the
# system tree), libraries and shared files linked.
mkdir -p "$OUT$PGBIN" "$OUT$PKGLIB" "$OUT$SHARE"
cp -a "$PGBIN"/. "$OUT$PGBIN"/
for f in "$PKGLIB"/*; do [ -e "$OUT$PKGLIB/$(basename "$f")" ] || ln -s "$f" "$OUT$PKGLIB/"; done
for f in "$SHARE"/*; do
  name="$(basename "$f")"
  if [ "$name" = extension ]; then
    for e in "$f"/*; do [ -e "$OUT$SHARE/extension/$(basename "$e")" ] || ln -s "$e" "$OUT$SHARE/extension/"; done
  elif [ ! -e "$OUT$SHARE/$name" ]; then ln -s "$f" "$OUT$SHARE/"; fi
done
echo "citus: built into $OUT"
