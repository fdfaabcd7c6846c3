#!/usr/bin/env bash
# Screenshot of an `lstm-forecast report` page with headless Chromium, as docs/report.md shows it.
#
#   scripts/report_screenshot.sh REPORT.html OUT.png [WIDTH,HEIGHT]
#
# Chromium from the distribution's packages: apt-get update && apt-get install -y chromium.
# The page is self-contained, so every network feature is off: a screenshot that loaded anything
# from elsewhere would show a page our users do not get.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]  (default 1200,2400)" >&2
    exit 2
fi
report=$(realpath "$1")
out=$(realpath -m "$2")
size=${3:-1200,2400}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z "$browser" ]]; then
    echo "error: no chromium found; install it with: apt-get update && apt-get install -y chromium" >&2
    exit 2
fi
[[ -f "$report" ]] || { echo "error: $report: no such file; make it with lstm-forecast report" >&2; exit 2; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$out" --window-size="$size" "file://$report" 2>/dev/null
[[ -s "$out" ]] || { echo "error: chromium wrote no screenshot to $out" >&2; exit 1; }
echo "wrote $out"
