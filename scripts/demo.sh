#!/usr/bin/env bash
# The demo: local routing through three hops inside one node.
set -euo pipefail
build=${1:-build/release}
echo "== Local routing: app -> h1 -> h2 -> h3 -> echo, and the reply back"
echo
"$build/examples/local_routing"
