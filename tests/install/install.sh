#!/usr/bin/env bash
# Install test: build the project as a user would (release, no tests), `cmake --install` it into
# a temporary prefix, and check what landed there:
#   - the files: libockam.so.<major> (SONAME) and its links, libockam.a, headers, ockam.pc and
#     libockam.pc, the CMake package, bin/ockam, man pages, bash completion
#   - libockam.so exports exactly the OCKAM_API functions of the installed headers, all ockam_*,
#     and needs only what ockam.pc declares, never jansson (the CLI's node manager)
#   - examples/ (local routing, a TCP round trip) built out of tree through find_package(ockam)
#     (shared and static) and through pkg-config, plus a
#     plain `cc $(pkg-config --cflags --libs ockam)` and a static link through
#     `pkg-config --static`: each runs and its message comes back
#   - `man -l` renders every page without a warning, the completion completes, ockam --version
# Usage: tests/install/install.sh SOURCE_DIR [WORK_DIR]   (WORK_DIR is removed at the end)
set -euo pipefail

src=$(cd "$1" && pwd)
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/ockam-install.XXXXXX")}
trap 'rm -rf "$work"' EXIT
build=$work/build
prefix=$work/prefix
fails=0
passes=0

ok() { passes=$((passes + 1)); echo "ok   $*"; }
fail() { fails=$((fails + 1)); echo "FAIL $*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

echo "# building and installing into $prefix"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DOCKAM_BUILD_BENCH=OFF -DOCKAM_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
nice -n 5 cmake --build "$build" -j "${JOBS:-2}" >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log"
    exit 1
}
cmake --install "$build" >/dev/null

libdir=$(dirname "$(find "$prefix" -name libockam.a | head -n1)")
version=$(sed -n 's/^#define OCKAM_VERSION_STRING "\(.*\)"/\1/p' "$src/include/ockam/ockam.h")
major=${version%%.*}

# ---- files --------------------------------------------------------------------------------
for f in "$libdir/libockam.so.$version" "$libdir/libockam.a" "$prefix/include/ockam/ockam.h" \
    "$libdir/pkgconfig/ockam.pc" "$libdir/pkgconfig/libockam.pc" \
    "$libdir/cmake/ockam/ockamConfig.cmake" "$libdir/cmake/ockam/ockamConfigVersion.cmake" \
    "$prefix/bin/ockam" "$prefix/share/man/man1/ockam.1" "$prefix/share/man/man1/ockam-node.1" \
    "$prefix/share/bash-completion/completions/ockam"; do
    check "installed ${f#"$prefix"/}" test -s "$f"
done
check "libockam.so.$major -> libockam.so.$version" \
    test "$(readlink "$libdir/libockam.so.$major")" = "libockam.so.$version"
check "libockam.so -> libockam.so.$major" test "$(readlink "$libdir/libockam.so")" = "libockam.so.$major"
soname=$(readelf -d "$libdir/libockam.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "SONAME is libockam.so.$major (got '$soname')" test "$soname" = "libockam.so.$major"
check "no internal header installed" test -z "$(find "$prefix/include" -name '*.h' ! -path '*/ockam/*')"

# ---- exported symbols ---------------------------------------------------------------------
nm -D --defined-only "$libdir/libockam.so.$version" | awk '{print $3}' | sort -u >"$work/exported"
# Every OCKAM_API declaration of the installed headers: the identifier before its '('.
cat "$prefix"/include/ockam/*.h | tr '\n' ' ' | grep -o 'OCKAM_API [^;{]*' |
    grep -v '__attribute__' | sed 's/(.*//; s/.*[ *]\([A-Za-z_][A-Za-z0-9_]*\) *$/\1/' | sort -u >"$work/api"
check "exported symbols are all ockam_* ($(wc -l <"$work/exported") of them)" \
    test -z "$(grep -v '^ockam_' "$work/exported")"
extra=$(comm -23 "$work/exported" "$work/api")
missing=$(comm -13 "$work/exported" "$work/api")
check "every exported symbol is an OCKAM_API declaration${extra:+ (extra: $extra)}" test -z "$extra"
check "every OCKAM_API declaration is exported${missing:+ (missing: $missing)}" test -z "$missing"
needed=$(readelf -d "$libdir/libockam.so.$version" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
# Each library it needs is one ockam.pc names (Requires.private), or libc's.
declared=$(pkg-config --libs $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --print-requires-private ockam |
    awk '{print $1}') | tr ' ' '\n' | sed -n 's/^-l//p')
for lib in $needed; do
    base=$(sed 's/^lib//; s/\.so.*//' <<<"$lib")
    case $base in c | m | pthread | dl | rt | ld-linux*) continue ;; esac
    check "libockam.so needs $lib, which ockam.pc declares" grep -qx "$base" <<<"$declared"
done
check "libockam.so does not need jansson (the command's node manager is not in it)" \
    test -z "$(grep jansson <<<"$needed")"

# ---- examples, out of tree ----------------------------------------------------------------
run_example() { # run_example DESCRIPTION BINARY: local_routing, and tcp_echo beside it if built
    local out dir
    if out=$("$2" 2>&1) && grep -q "reply arrived at app" <<<"$out" &&
        grep -q 'payload: "Hello Ockam!"' <<<"$out"; then
        ok "$1"
    else
        fail "$1"
        echo "$out" | tail -n 5
    fi
    dir=$(dirname "$2")
    [ -x "$dir/tcp_echo" ] || return 0
    if out=$("$dir/tcp_echo" 2>&1) && grep -q 'reply over TCP: "Hello over TCP"' <<<"$out"; then
        ok "${1/examples/tcp_echo}"
    else
        fail "${1/examples/tcp_echo}"
        echo "$out" | tail -n 5
    fi
}
export PKG_CONFIG_PATH=$libdir/pkgconfig

cmake -S "$src/examples" -B "$work/ex-cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
    cmake --build "$work/ex-cmake" >/dev/null || fail "examples build through find_package(ockam)"
run_example "examples through find_package(ockam) run" "$work/ex-cmake/local_routing"
check "find_package example links the installed libockam.so.$major" \
    grep -q "$libdir/libockam.so.$major" <(ldd "$work/ex-cmake/local_routing")

cmake -S "$src/examples" -B "$work/ex-static" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DOCKAM_EXAMPLES_STATIC=ON >/dev/null &&
    cmake --build "$work/ex-static" >/dev/null || fail "examples build with ockam::ockam_static"
run_example "examples with ockam::ockam_static run" "$work/ex-static/local_routing"
check "the ockam::ockam_static example does not need libockam.so" \
    test -z "$(ldd "$work/ex-static/local_routing" | grep libockam)"

cmake -S "$src/examples" -B "$work/ex-pc" -G Ninja -DOCKAM_EXAMPLES_PKGCONFIG=ON >/dev/null &&
    cmake --build "$work/ex-pc" >/dev/null || fail "examples build through pkg-config"
run_example "examples through pkg-config (CMake) run" "$work/ex-pc/local_routing"

# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "$src/examples/local_routing.c" $(pkg-config --cflags --libs ockam) \
    -o "$work/cc-shared" || fail "cc \$(pkg-config --cflags --libs ockam)"
LD_LIBRARY_PATH=$libdir run_example "cc \$(pkg-config --cflags --libs ockam) runs" "$work/cc-shared"

# Static: libockam.a with exactly what ockam.pc declares private (Requires.private modules,
# linked as the system has them, and Libs.private): a missing one would not link.
private=$(pkg-config --print-requires-private ockam | awk '{print $1}' | tr '\n' ' ')
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Werror "$src/examples/local_routing.c" $(pkg-config --cflags ockam) \
    "$libdir/libockam.a" $(pkg-config --libs $private) \
    $(pkg-config --static --libs-only-other ockam) -o "$work/cc-static" ||
    fail "static link with libockam.a and ockam.pc's private dependencies ($private)"
run_example "static link (libockam.a + Requires.private: $private) runs" "$work/cc-static"
check "the static example does not need libockam.so" \
    test -z "$(ldd "$work/cc-static" | grep libockam)"

# ---- the command, man pages, completion ---------------------------------------------------
v=$("$prefix/bin/ockam" --version)
check "ockam --version: '$(tr '\n' ' ' <<<"$v")'" \
    grep -qzE "^ockam $version"$'\n'"compiled from: ([0-9a-f]{7,}|N/A)" <<<"$v"
pages=0
for page in "$prefix"/share/man/man1/*.1; do
    pages=$((pages + 1))
    name=$(basename "$page" .1)
    warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || echo "man failed")
    text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null)
    check "man -l $name renders without warnings${warn:+: $warn}" test -z "$warn"
    check "man page $name names itself" grep -q "^NAME" <<<"$text"
done
commands=$("$prefix/bin/ockam" --help | awk '/^Commands:$/ {on = 1; next} on && /^$/ {exit} on {print $1}')
check "one man page per command, and ockam(1) ($pages pages)" \
    test "$pages" -eq "$(($(wc -w <<<"$commands") + 1))"
check "man ockam-tcp-outlet has 'ockam tcp-outlet create' and its --to option" \
    bash -c "MANWIDTH=80 man -l '$prefix/share/man/man1/ockam-tcp-outlet.1' 2>/dev/null |
        grep -q 'ockam tcp-outlet create' && MANWIDTH=80 man -l '$prefix/share/man/man1/ockam-tcp-outlet.1' |
        grep -q -- '--to \[HOST:\]PORT'"
completion=$(bash -c "source '$prefix/share/bash-completion/completions/ockam'
    COMP_WORDS=(ockam tcp-outlet ''); COMP_CWORD=2; _ockam; echo \${COMPREPLY[*]}")
check "bash completion: 'ockam tcp-outlet <TAB>' -> '$completion'" \
    test "$completion" = "create list show delete"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
