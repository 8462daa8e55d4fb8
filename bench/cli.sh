#!/usr/bin/env bash
# CLI latency benchmarks (hyperfine): the three numbers users feel, against the targets.
#   node create                                         <= 50 ms
#   message send hello --to /node/n1/service/echo       <= 20 ms
#   node delete --all -y with 10 nodes                  <= 200 ms
# Usage: bench/cli.sh [BUILD_DIR] [--check]   (default build/release; --check fails when a
# median misses its target). State goes to a temporary OCKAM_HOME that is removed at the end.
set -euo pipefail

build=build/release
check=0
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        *) build=$arg ;;
    esac
done
ockam=$(realpath "$build/ockam")
[ -x "$ockam" ] || { echo "bench/cli.sh: no ockam binary in $build (build it first)" >&2; exit 64; }
command -v hyperfine >/dev/null || { echo "bench/cli.sh: hyperfine is missing (scripts/install-deps.sh bench)" >&2; exit 69; }

OCKAM_HOME=$(mktemp -d)
export OCKAM_HOME NO_COLOR=1
results=$(mktemp -d)
cleanup() {
    "$ockam" node delete --all -y >/dev/null 2>&1 || true
    rm -rf "$OCKAM_HOME" "$results"
}
trap cleanup EXIT

run() { # name, hyperfine arguments...
    local name=$1
    shift
    hyperfine --shell=none --style basic --export-json "$results/$name.json" "$@" >&2
}

# Each run creates a node from a clean state (the deletion is not timed).
run create --warmup 3 --runs 30 --prepare "$ockam node delete --all -y" "$ockam node create n1"

"$ockam" node delete --all -y >/dev/null
"$ockam" node create n1 >/dev/null
run send --warmup 10 --runs 100 "$ockam message send hello --to /node/n1/service/echo"

# Each run deletes ten running nodes (their creation is not timed).
run delete --warmup 1 --runs 15 \
    --prepare "bash -c 'for i in 0 1 2 3 4 5 6 7 8 9; do $ockam node create b\$i >/dev/null; done'" \
    "$ockam node delete --all -y"

status=0
printf '\n%-48s %10s %10s  %s\n' "command" "median" "target" "result"
report() { # name, label, target ms
    local median
    median=$(jq '.results[0].median * 1000' "$results/$1.json")
    local verdict=ok
    if awk -v m="$median" -v t="$3" 'BEGIN { exit !(m > t) }'; then
        verdict=MISSED
        status=1
    fi
    printf '%-48s %8.1f ms %7d ms  %s\n' "$2" "$median" "$3" "$verdict"
}
report create "ockam node create n1" 50
report send "ockam message send hello --to .../echo" 20
report delete "ockam node delete --all -y (10 nodes)" 200
[ "$check" = 1 ] && exit "$status"
exit 0
