#!/usr/bin/env bash
# The CLI answers --help and --version, and bad usage exits 2 with one line.
set -euo pipefail
memmon=$1
"$memmon" --help | grep -q 'memmon'
"$memmon" --version | grep -Eq '^memmon [0-9]+\.[0-9]+\.[0-9]+$'
set +e
err=$("$memmon" --no-such-flag 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 2 ]] || { echo "bad flag exited $rc, want 2"; exit 1; }
[[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || { echo "want one line, got: $err"; exit 1; }
[[ $err == memmon:* ]] || { echo "error line must start with memmon: $err"; exit 1; }
echo "cli test passed"
