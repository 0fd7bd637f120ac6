#!/bin/sh
# make bench: throughput and memory, side by side. Never part of `make test`.
#   decode-only events/s per format (fragreplay info), the same trace.dat
#   through `trace-cmd report > /dev/null`, replay events/s per policy,
#   peak RSS and bytes per modeled page.
B=${B:-build}
FR=$B/fragreplay
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SHARED=${FR_SHARED_TRACES:-../shared/traces}
TRACES="traces/small-tar traces/thp-slab"
[ -d "$SHARED/mixed-6.18" ] && TRACES="$TRACES $SHARED/mixed-6.18"

secs() { # run a command, print "seconds peakKB"
	/usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; echo "0 0"; return; }
	cat "$TMP/t"
}

printf '%-28s %-22s %10s %8s %12s %9s\n' trace what seconds "MB" "Mev/s" ratio
for t in $TRACES; do
	n=$("$FR" info --json "$t" | sed -n 's/.*"events_total": \([0-9]*\).*/\1/p')
	dat="$t/trace.dat"
	set -- $(secs trace-cmd report "$dat"); tr=$1
	printf '%-28s %-22s %10s %8s %12s %9s\n' "$(basename $t)" "trace-cmd report" "$1" $(($2/1024)) \
		"$(echo "$n $1" | awk '{printf "%.2f", $2>0?$1/$2/1e6:0}')" "1.0"
	set -- $(secs "$FR" info "$dat")
	printf '%-28s %-22s %10s %8s %12s %9s\n' "" "info trace.dat" "$1" $(($2/1024)) \
		"$(echo "$n $1" | awk '{printf "%.2f", $2>0?$1/$2/1e6:0}')" "$(echo "$tr $1" | awk '{printf "%.1fx", $2>0?$1/$2:0}')"
	if "$FR" convert "$t" -o "$TMP/x.frt" 2>/dev/null; then
		set -- $(secs "$FR" info "$TMP/x.frt")
		printf '%-28s %-22s %10s %8s %12s %9s\n' "" "info .frt" "$1" $(($2/1024)) \
			"$(echo "$n $1" | awk '{printf "%.2f", $2>0?$1/$2/1e6:0}')" "$(echo "$tr $1" | awk '{printf "%.1fx", $2>0?$1/$2:0}')"
		src="$TMP/x.frt"
		[ -f "$t/kpageflags.start.zst" ] && src="$t"
	else
		src="$t"
	fi
	for p in $(ls "$B"/policies/*.so | xargs -n1 basename | sed 's/\.so$//'); do
		set -- $(secs "$FR" replay "$src" -p "$p" -q -o /dev/null)
		printf '%-28s %-22s %10s %8s %12s %9s\n' "" "replay $p" "$1" $(($2/1024)) \
			"$(echo "$n $1" | awk '{printf "%.2f", $2>0?$1/$2/1e6:0}')" ""
	done
done
