#!/bin/sh
# make demo: replay every recording in traces/ against every shipped policy,
# write results/demo/<trace>.json, compare them and render one HTML report.
set -e
B=${B:-build}
FR=$B/fragreplay
OUT=results/demo
mkdir -p "$OUT"
POLICIES=""
for so in "$B"/policies/*.so; do
	POLICIES="$POLICIES -p $(basename "$so" .so)"
done
files=""
for t in traces/*/; do
	t=${t%/}
	name=$(basename "$t")
	# a recording directory holds a trace file; skip anything else
	ls "$t"/trace.* >/dev/null 2>&1 || continue
	echo "demo: replaying $t with:$POLICIES" >&2
	"$FR" replay "$t" $POLICIES --check --interval 0.1 -o "$OUT/$name.json"
	files="$files $OUT/$name.json"
done
echo >&2
"$FR" compare $files --baseline vanilla || true
if "$FR" report $files -o "$OUT/report.html"; then
	echo "demo: results in $OUT/*.json, report in $OUT/report.html" >&2
else
	echo "demo: results in $OUT/*.json (report not available)" >&2
fi
