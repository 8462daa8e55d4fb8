#!/usr/bin/env bash
# Debian packages test: build them with the standard tools (scripts/make-deb.sh: debian/,
# dpkg-buildpackage -b -us -uc), check their names, contents and dependencies, unpack all three
# into a scratch root (dpkg -x: the machine's own /usr is not touched), and there run
# `ockam --version`, compile and run an example with `pkg-config --cflags --libs ockam`, and
# render a man page.
# Usage: tests/install/deb.sh SOURCE_DIR [WORK_DIR]   (WORK_DIR is removed at the end)
set -euo pipefail

src=$(cd "$1" && pwd)
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/ockam-deb.XXXXXX")}
trap 'rm -rf "$work"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok   $*"; }
fail() { fails=$((fails + 1)); echo "FAIL $*"; }
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

version=$(sed -n 's/^#define OCKAM_VERSION_STRING "\(.*\)"/\1/p' "$src/include/ockam/ockam.h")
changelog=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
check "debian/changelog's version is the library's ($changelog, $version)" \
    test "$changelog" = "$version"

echo "# building the packages"
"$src/scripts/make-deb.sh" "$work/debs" >/dev/null
arch=$(dpkg --print-architecture)
for p in libockam0 libockam-dev ockam; do
    check "built ${p}_${version}_$arch.deb" test -s "$work/debs/${p}_${version}_$arch.deb"
done
deb() { echo "$work/debs/${1}_${version}_$arch.deb"; }

# Contents: the runtime package has the shared library only; -dev the rest of the library.
runtime=$(dpkg-deb -c "$(deb libockam0)" | awk '{print $6}' | grep -v '/$' | grep -v '/usr/share/doc/')
check "libockam0 holds libockam.so.0 and libockam.so.$version only" \
    test "$(grep -c 'libockam\.so\.0\(\.[0-9.]*\)\?$' <<<"$runtime")" = "2" -a "$(wc -l <<<"$runtime")" = "2"
dev=$(dpkg-deb -c "$(deb libockam-dev)" | awk '{print $6}')
for f in include/ockam/ockam.h libockam.a 'libockam.so$' pkgconfig/ockam.pc cmake/ockam/ockamConfig.cmake; do
    check "libockam-dev holds $f" grep -q "$f" <<<"$dev"
done
cli=$(dpkg-deb -c "$(deb ockam)" | awk '{print $6}')
for f in usr/bin/ockam man1/ockam.1.gz man1/ockam-node.1.gz completions/ockam; do
    check "ockam holds $f" grep -q "$f" <<<"$cli"
done
check "libockam-dev depends on libockam0 (= $version)" \
    grep -q "libockam0 (= $version)" <<<"$(dpkg-deb -f "$(deb libockam-dev)" Depends)"
runtime_depends=$(dpkg-deb -f "$(deb libockam0)" Depends)
check "libockam0 depends on libuv1" grep -q "libuv1" <<<"$runtime_depends"
check "libockam0 does not depend on jansson (the node manager is the command's)" \
    test -z "$(grep jansson <<<"$runtime_depends")"
# pkg-config needs every Requires.private module of ockam.pc: libockam-dev depends on the
# package that has each one's .pc file.
dev_depends=$(dpkg-deb -f "$(deb libockam-dev)" Depends)
dpkg-deb --fsys-tarfile "$(deb libockam-dev)" | tar -xO --wildcards '*/pkgconfig/ockam.pc' >"$work/ockam.pc"
for m in $(sed -n 's/^Requires.private: //p' "$work/ockam.pc" | tr ',' '\n' | awk '{print $1}'); do
    pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc
    pkg=$(dpkg -S "$pc" 2>/dev/null | head -n1 | cut -d: -f1)
    check "libockam-dev depends on $pkg (for $m.pc)" grep -q "\b$pkg\b" <<<"$dev_depends"
done

# Unpacked into a scratch root.
root=$work/root
for p in libockam0 libockam-dev ockam; do dpkg -x "$(deb "$p")" "$root"; done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=$root/usr/lib/$multiarch
v=$(LD_LIBRARY_PATH=$libdir "$root/usr/bin/ockam" --version)
check "packaged ockam --version: $(tr '\n' ' ' <<<"$v")" \
    grep -qzE "^ockam $version"$'\n'"compiled from: [0-9a-f]{7,}" <<<"$v"
flags=$(PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$libdir/pkgconfig \
    pkg-config --cflags --libs ockam)
check "pkg-config --cflags --libs ockam points into the packages ($flags)" \
    grep -q -- "-I$root/usr/include" <<<"$flags"
# shellcheck disable=SC2086
if cc -std=c11 -Wall -Werror "$src/examples/local_routing.c" $flags -o "$work/example"; then
    ok "an example compiles against the packaged headers and library"
    out=$(LD_LIBRARY_PATH=$libdir "$work/example" 2>&1 || true)
    check "it runs against libockam.so.0 from the package" grep -q "reply arrived at app" <<<"$out"
    check "it links the packaged libockam.so.0" \
        grep -q "$libdir/libockam.so.0" <<<"$(LD_LIBRARY_PATH=$libdir ldd "$work/example")"
else
    fail "an example compiles against the packaged headers and library"
fi
warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/usr/share/man/man1/ockam-node.1.gz" 2>&1 >/dev/null)
check "man -l of the packaged ockam-node(1) renders cleanly${warn:+: $warn}" test -z "$warn"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
