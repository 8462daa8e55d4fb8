#!/usr/bin/env bash
# Installs every Debian package the project needs, and nothing else does.
# Idempotent: packages already present are not touched; apt runs only when something is missing.
# Usage: scripts/install-deps.sh [build|test|bench|deb]   (default: test)
set -euo pipefail

profile=${1:-test}

build_pkgs=(build-essential cmake ninja-build pkg-config libuv1-dev libjansson-dev librdkafka-dev
            libssl-dev)
test_pkgs=(clang libclang-rt-14-dev libcmocka-dev clang-format bats bats-assert bats-support
           jq python3 curl procps iproute2 util-linux nftables bluez-test-tools
           debhelper dpkg-dev man-db binutils)
# Building the Debian packages (make deb).
deb_pkgs=(debhelper dpkg-dev)
bench_pkgs=(hyperfine socat gnuplot-nox libzmq3-dev libnng-dev openssl)

pkgs=("${build_pkgs[@]}")
case "$profile" in
    build) ;;
    deb) pkgs+=("${deb_pkgs[@]}") ;;
    test) pkgs+=("${test_pkgs[@]}") ;;
    bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    *) echo "install-deps: unknown profile '$profile' (use build, test, bench or deb)" >&2; exit 64 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root or install them yourself" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
