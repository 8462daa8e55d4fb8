#!/usr/bin/env bash
# Build the Debian packages (libockam0, libockam-dev, ockam) with the standard tools
# (debian/, dpkg-buildpackage -b -us -uc) from a copy of the working tree, into build/deb/.
# The copy carries a COMMIT file, so `ockam --version` names the commit without git.
# Usage: scripts/make-deb.sh [OUT_DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/deb}
rm -rf "$out"
mkdir -p "$out/src"
cd "$root"
git ls-files -z --cached --others --exclude-standard -- . ':!build' |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$out/src"
git rev-parse --short=12 HEAD >"$out/src/COMMIT" 2>/dev/null || true

cd "$out/src"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2} nocheck" nice -n 5 dpkg-buildpackage -b -us -uc \
    >"$out/build.log" 2>&1 || {
    tail -n 40 "$out/build.log"
    exit 1
}
cd "$out"
rm -rf src
ls -1 "$out"/*.deb
