#!/usr/bin/env bash
# Run every libFuzzer target for a short time on a temporary copy of its seed corpus (so the
# committed corpus in fuzz/corpus/ is never modified). Builds nothing: build the "fuzz"
# preset first (cmake --preset fuzz && cmake --build --preset fuzz).
# Usage: scripts/fuzz-smoke.sh [build-dir (default build/fuzz)] [seconds per target (default 30)]
# Exits non-zero if any target is missing or finds a crash, leak, timeout or OOM; the
# offending input is kept under <build-dir>/fuzz-artifacts/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/fuzz}
secs=${2:-30}
targets=(fuzz_bare fuzz_cbor fuzz_framing fuzz_multiaddr fuzz_udp_frag fuzz_addr
         fuzz_change_history fuzz_attestation fuzz_vault_file fuzz_text fuzz_hci fuzz_l2cap
         fuzz_handshake fuzz_sc_frame fuzz_node fuzz_nodemanager fuzz_config fuzz_portal_relay)

[ -d "$build" ] || { echo "fuzz-smoke: no build directory '$build'" >&2; exit 2; }
build=$(cd "$build" && pwd)
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
for t in "${targets[@]}"; do
    bin=$(find "$build" -type f -name "$t" -perm -u+x -print -quit)
    if [ -z "$bin" ]; then
        echo "fuzz-smoke: $t: binary not found under $build" >&2
        failed+=("$t(missing)")
        continue
    fi
    corpus="$work/$t"
    mkdir -p "$corpus"
    if [ -d "$root/fuzz/corpus/$t" ]; then
        cp -R "$root/fuzz/corpus/$t/." "$corpus/"
    fi
    echo "fuzz-smoke: $t for ${secs}s ($(find "$corpus" -type f | wc -l) seeds)"
    # The whole-node targets cover some 20 000 features: libFuzzer's default (entropic)
    # scheduling spends most of their time in its rare-feature bookkeeping, about a third as
    # many executions in the same time. The decoders keep it.
    flags=()
    case "$t" in fuzz_node | fuzz_nodemanager | fuzz_config | fuzz_portal_relay) flags=(-entropic=0) ;; esac
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${flags[@]}" -artifact_prefix="$artifacts/$t-" "$corpus" >"$work/$t.log" 2>&1; then
        tail -n 40 "$work/$t.log" >&2
        failed+=("$t")
        continue
    fi
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$work/$t.log" |
        sed "s/^/    $t /"
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz-smoke: FAILED: ${failed[*]} (artifacts in $artifacts)" >&2
    exit 1
fi
echo "fuzz-smoke: all ${#targets[@]} targets clean"
