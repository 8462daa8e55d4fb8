#!/usr/bin/env bash
# Turns the raw measurements of scripts/bench.sh (TSV: scenario pass impl param metric value,
# one line per run) into OUT/latest.md (medians, ratios to the baselines of the same run, the
# targets) and OUT/latest.png (gnuplot: one-way throughput by payload size).
# Usage: scripts/bench-report.sh RAW.tsv OUT_DIR   (metadata comes from BENCH_* variables)
set -euo pipefail

raw=$1
out=$2
md=$out/latest.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -c . || true)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)

awk -F '\t' -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" -v commit="$commit" -v dirty="$dirty" \
    -v cpu="$cpu" -v ncpu="$(nproc)" -v elapsed="${BENCH_ELAPSED:-?}" \
    -v load="${BENCH_LOAD:-?}" -v runs="${BENCH_RUNS:-3}" -v failures="${BENCH_FAILURES:-0}" \
    -v secs="${BENCH_SECS:-0.5}" -v lat_secs="${BENCH_LAT_SECS:-0.3}" \
    -v portal_mib="${BENCH_PORTAL_MIB:-256}" -v conns="${BENCH_CONNS:-10000}" \
    -v plotdat="$out/latest.plot.tsv" -f "$(dirname "$0")/bench-report.awk" "$raw" >"$md"

# The chart needs the one-way throughput scenario (BENCH_ONLY may have left it out).
if ! awk -F '\t' '{for (i = 2; i <= NF; i++) if ($i != "NaN") found = 1} END {exit !found}' \
    "$out/latest.plot.tsv"; then
    rm -f "$out/latest.plot.tsv"
    exit 0
fi
gnuplot <<EOF
set terminal pngcairo size 1200,520 font "sans,10"
set output "$out/latest.png"
set datafile separator "\t"
set datafile missing "NaN"
set multiplot layout 1,2 title "One-way throughput over one TCP connection (medians, same run)"
set logscale xy 2
set xrange [11:95000]
set xtics ("16 B" 16, "256 B" 256, "4 KiB" 4096, "64 KiB" 65536)
set format y "%g"
set xlabel "payload size"
set ylabel "MiB/s"
set key top left
set grid
set title "pinned (taskset -c 0)"
plot "$out/latest.plot.tsv" using 1:2 with linespoints lw 2 title "libockam", \
     "" using 1:3 with linespoints title "plain TCP", \
     "" using 1:4 with linespoints title "ZeroMQ", \
     "" using 1:5 with linespoints title "nng push/pull", \
     "" using 1:6 with linespoints title "nng pair"
set title "unpinned"
plot "$out/latest.plot.tsv" using 1:7 with linespoints lw 2 title "libockam", \
     "" using 1:8 with linespoints title "plain TCP", \
     "" using 1:9 with linespoints title "ZeroMQ", \
     "" using 1:10 with linespoints title "nng push/pull", \
     "" using 1:11 with linespoints title "nng pair"
unset multiplot
EOF
rm -f "$out/latest.plot.tsv"
