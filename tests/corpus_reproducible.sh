#!/usr/bin/env bash
# The committed corpus is exactly what tools/gen_corpus.cc writes.
set -euo pipefail
gen=$1 committed=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$gen" "$out" >/dev/null
diff -r "$committed" "$out" >/dev/null || {
  echo "tests/corpus differs from gen_corpus output; regenerate: build/bin/gen_corpus tests/corpus"
  diff -r "$committed" "$out" | head -20
  exit 1
}
echo "corpus reproducible"
