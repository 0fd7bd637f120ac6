#!/bin/sh
# make bench: speed and memory, side by side, in one reproducible run.
# Never part of `make test`.  Figures and their reading: docs/bench.md.
#
#   1. decode only (`fragreplay info`), per input format, for every real
#      recording: trace.dat, its `trace-cmd report` text, its .frt; against
#      `trace-cmd report > /dev/null` and against the floor, a bare
#      libtracecmd tracecmd_iterate_events() loop (tests/floor_tracecmd.c,
#      built here with cc and pkg-config);
#   2. replay per policy (every .so in $B/policies), then two policies in one
#      run (one thread each, one shared decode) against each alone;
#   3. the same on synthetic machine-scale traces (`fragreplay synth`, resampled
#      from the largest real recording): 256 GiB with 10 M and 100 M events by
#      default; BENCH_FULL=1 adds a 1 TiB machine with 10 M, 100 M and 1 B.
#
# Columns: wall s (best of $REPS for the short runs), cpu s (user+sys), peak
# RSS, M events/s by the wall clock; "engine" is the engine's own figure for
# a replay (events / CPU time of that policy's thread: no decode, no setup);
# B/page is peak RSS over the modeled pages (end pfn of the last zone).
#
# Environment: B (build dir), BENCH_FULL=1, BENCH_TIMEOUT (240 s per run: a
# run stopped there shows its wall time as a lower bound), BENCH_TMP (where the big traces go;
# 1 B events take ~6 GB), BENCH_POLICIES (default: all), BENCH_REPS (3),
# BENCH_SYNTH ("256G:10M 256G:100M": MEM:EVENTS pairs), BENCH_FULL_SYNTH,
# BENCH_SECTIONS ("decode replay synth": which of 1, 2, 3 to run; BENCH_FULL
# runs its part whatever this says), BENCH_RATIO_REPS (3) and
# BENCH_RATIO_MAX_EVENTS (100 M): the two-policy ratio's alternating rounds,
# FR_SHARED_TRACES (../shared/traces).
B=${B:-build}
FR=$B/fragreplay
REPS=${BENCH_REPS:-3}
RATIO_REPS=${BENCH_RATIO_REPS:-3}
RATIO_MAX=${BENCH_RATIO_MAX_EVENTS:-100000000}
TIMEOUT=${BENCH_TIMEOUT:-240}
FULL=${BENCH_FULL:-0}
SHARED=${FR_SHARED_TRACES:-../shared/traces}
TMP=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/fr-bench-XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP
export LC_ALL=C

[ -x "$FR" ] || { echo "bench: $FR missing: run make first" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }

POLICIES=${BENCH_POLICIES:-$(ls "$B"/policies/*.so 2>/dev/null | xargs -n1 basename | sed 's/\.so$//' | sort | tr '\n' ' ')}
TRACES="traces/small-tar traces/thp-slab"
[ -d "$SHARED/mixed-6.18" ] && TRACES="$TRACES $SHARED/mixed-6.18"
LIKE=traces/small-tar
[ -d "$SHARED/mixed-6.18" ] && LIKE=$SHARED/mixed-6.18

# the floor: a bare libtracecmd loop
FLOOR=""
if cc -O2 -o "$TMP/floor" tests/floor_tracecmd.c $(pkg-config --cflags --libs libtracecmd) 2>"$TMP/cc.err"; then
	FLOOR=$TMP/floor
else
	echo "bench: cannot build tests/floor_tracecmd.c (no floor figures):" >&2
	cat "$TMP/cc.err" >&2
fi
HAVE_TC=0
command -v trace-cmd >/dev/null && HAVE_TC=1

# run CMD... once, for at most TIMEOUT s: sets W (wall s), C (cpu s), M (peak
# RSS KB), TO=1 if it was stopped; stdout to $TMP/out, stderr to $TMP/err.
# Returns the command's status (0 for a timeout: the row says so).
run1() {
	TO=0
	t0=$(date +%s.%N)
	/usr/bin/time -f "%e %U %S %M" -o "$TMP/time" timeout "$TIMEOUT" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	t1=$(date +%s.%N)
	set -- $(tail -n 1 "$TMP/time")
	# wall from the clock (time's %e has 10 ms steps): 3 decimals
	W=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')
	C=$(echo "$2 $3" | awk '{printf "%.2f", $1 + $2}'); M=$4
	if [ $rc = 124 ]; then TO=1; rc=0; fi
	return $rc
}

# best N CMD...: best of N runs by wall clock (keeps that run's cpu and RSS)
best() {
	bn=$1; shift
	bw=""; bc=""; bm=""
	i=0
	while [ $i -lt "$bn" ]; do
		run1 "$@" || { cat "$TMP/err" >&2; W=0; C=0; M=0; return 1; }
		[ "$TO" = 1 ] && return 0	# no second try
		if [ -z "$bw" ] || awk "BEGIN{exit !($W < $bw)}"; then bw=$W; bc=$C; bm=$M; fi
		i=$((i + 1))
	done
	W=$bw; C=$bc; M=$bm
}

rate() { echo "$1 $2" | awk '{printf("%.2f", ($2 > 0) ? $1 / $2 / 1e6 : 0)}'; }
ratio() { echo "$1 $2" | awk '{printf("%.1fx", ($2 > 0) ? $1 / $2 : 0)}'; }
mb() { echo "$1" | awk '{printf "%.0f", $1 / 1024}'; }

HDR='%-22s %-24s %8s %8s %8s %9s %8s %8s %s\n'
header() {
	echo
	echo "== $1"
	printf "$HDR" trace what "wall s" "cpu s" "peak MB" "M ev/s" engine "B/page" ratio
}
row() { # trace what wall cpu rssKB events engine bpage ratio
	if [ "$TO" = 1 ]; then
		printf "$HDR" "$1" "$2" ">$3" "$4" "$(mb "$5")" "<$(rate "$6" "$3")" "" "" "STOPPED after ${TIMEOUT}s"
		return
	fi
	printf "$HDR" "$1" "$2" "$3" "$4" "$(mb "$5")" "$(rate "$6" "$3")" "$7" "$8" "$9"
}

events_of() { "$FR" info --json "$1" 2>/dev/null | sed -n 's/^  "events_total": \([0-9]*\).*/\1/p'; }
end_pfn() { sed -n 's/^ *"end_pfn": \([0-9]*\).*/\1/p' "$1" | sort -n | tail -n 1; }
bpage() { echo "$1 $2" | awk '{printf("%.2f", ($2 > 0) ? $1 * 1024 / $2 : 0)}'; }
engine_rate() { # the policy's "N M events/s" from replay's summary line
	grep "^$1 " "$TMP/err" | sed -n 's/.*; \([0-9.]*\) M events\/s$/\1/p' | head -n 1
}

echo "fragreplay bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)),"
echo "  $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM; load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  build $B, policies: $POLICIES; best of $REPS for runs under a minute; BENCH_FULL=$FULL"

# ---- 1. decode only --------------------------------------------------------
SECTIONS=" ${BENCH_SECTIONS:-decode replay synth} "
case $SECTIONS in *" decode "*) ;; *) TRACES_DECODE="";; esac
: "${TRACES_DECODE=$TRACES}"
[ -n "$TRACES_DECODE" ] && header "decode only: fragreplay info per format, vs trace-cmd report and the libtracecmd floor"
for t in $TRACES_DECODE; do
	name=$(basename "$t")
	dat=$t/trace.dat
	n=$(events_of "$dat")
	tr=""; fl=""; ctr=0; cfl=0
	if [ $HAVE_TC = 1 ]; then
		best "$REPS" trace-cmd report "$dat"
		tr=$W; ctr=$C
		row "$name" "trace-cmd report" "$W" "$C" "$M" "$n" "" "" "1.0x"
		trace-cmd report "$dat" >"$TMP/$name.txt" 2>/dev/null
	fi
	if [ -n "$FLOOR" ]; then
		best "$REPS" "$FLOOR" "$dat"
		fl=$W; cfl=$C
		row "" "floor (bare libtracecmd)" "$W" "$C" "$M" "$n" "" "" "$(ratio "$tr" "$W") vs report"
	fi
	best "$REPS" "$FR" info "$dat"
	row "" "info trace.dat" "$W" "$C" "$M" "$n" "" "" "$(ratio "$tr" "$W") vs report, $(ratio "$fl" "$W") vs floor"
	cinfo=$C
	if [ -s "$TMP/$name.txt" ]; then
		best "$REPS" "$FR" info "$TMP/$name.txt"
		row "" "info report text" "$W" "$C" "$M" "$n" "" "" "$(ratio "$tr" "$W") vs report"
	fi
	"$FR" convert "$t" -o "$TMP/$name.frt" 2>/dev/null
	best "$REPS" "$FR" info "$TMP/$name.frt"
	row "" "info .frt" "$W" "$C" "$M" "$n" "" "" "$(ratio "$tr" "$W") vs report"
	echo "$n $ctr $cfl $cinfo $C" >>"$TMP/fit"
	rm -f "$TMP/$name.txt"
done
# Opening a trace.dat has a fixed cost (libtracecmd parses kallsyms and the
# event formats: ~0.2 s for these recordings) that a 1 B-event production
# trace amortises; fit cpu = fixed + n * per_event over the recordings.
if [ -f "$TMP/fit" ] && [ "$(wc -l <"$TMP/fit")" -ge 2 ]; then
	awk '
	function fit(col,   i, sx, sy, sxx, sxy, d) {
		sx = sy = sxx = sxy = 0
		for (i = 1; i <= N; i++) { sx += x[i]; sy += v[i, col]; sxx += x[i] * x[i]; sxy += x[i] * v[i, col] }
		d = N * sxx - sx * sx
		b[col] = (d > 0) ? (N * sxy - sx * sy) / d : 0
		a[col] = (sy - b[col] * sx) / N
	}
	{ N++; x[N] = $1; for (c = 2; c <= 5; c++) v[N, c] = $c }
	END {
		for (c = 2; c <= 5; c++) fit(c)
		printf "fit over %d recordings, cpu s = fixed + events x per-event:\n", N
		printf "  trace-cmd report %6.3f s + %7.3f us/event\n", a[2], b[2] * 1e6
		printf "  floor            %6.3f s + %7.3f us/event\n", a[3], b[3] * 1e6
		printf "  info trace.dat   %6.3f s + %7.3f us/event\n", a[4], b[4] * 1e6
		printf "  info .frt        %6.3f s + %7.3f us/event\n", a[5], b[5] * 1e6
		if (b[4] > 0)
			printf "  per event, info trace.dat is %.1fx faster than trace-cmd report (floor: %.1fx)\n", b[2] / b[4], (b[3] > 0) ? b[2] / b[3] : 0
	}' "$TMP/fit"
fi

# ---- 2 and 3: replay ---------------------------------------------------------
# replay_rows NAME SRC EVENTS REPS: one row per policy, then the pair.  A
# policy stopped by the timeout is skipped on the larger traces that follow.
SLOW=""
replay_rows() {
	name=$1; src=$2; n=$3; reps=$4
	ok=""
	for p in $POLICIES; do
		case " $SLOW " in *" $p "*)
			printf "$HDR" "$name" "replay -p $p" "" "" "" "" "" "" "skipped: stopped on a smaller trace"
			name=""
			continue;;
		esac
		best "$reps" "$FR" replay "$src" -p "$p" -o "$TMP/r.json"
		pages=$(end_pfn "$TMP/r.json")
		row "$name" "replay -p $p" "$W" "$C" "$M" "$n" "$(engine_rate "$p")" "$(bpage "$M" "$pages")" ""
		name=""
		if [ "$TO" = 1 ]; then SLOW="$SLOW $p"; continue; fi
		eval "w_$(echo "$p" | tr -c 'A-Za-z0-9_\n' _)=$W"
		ok="$ok $p"
	done
	# the pair: vanilla + spb (the comparison users run) when both finished,
	# else the first two that did
	set -- $ok
	case " $ok " in *" vanilla "*) case " $ok " in *" spb "*) set -- vanilla spb;; esac;; esac
	[ $# -ge 2 ] || return 0
	first=$1; second=$2
	best "$reps" "$FR" replay "$src" -p "$first" -p "$second" -o "$TMP/r.json"
	pages=$(end_pfn "$TMP/r.json")
	eval "a=\$w_$(echo "$first" | tr -c 'A-Za-z0-9_\n' _); b=\$w_$(echo "$second" | tr -c 'A-Za-z0-9_\n' _)"
	one=$(echo "$a $b" | awk '{print (($1 > $2) ? $1 : $2)}')
	slower=$(echo "$a $b $first $second" | awk '{print (($1 > $2) ? $3 : $4)}')
	pw=$W; pc=$C; pm=$M
	er="$(engine_rate "$first")/$(engine_rate "$second")"
	note="$(ratio "$pw" "$one") of the slower alone"
	# This VM's speed drifts by tens of percent within minutes (docs/bench.md),
	# so one pair of runs minutes apart says little.  Up to
	# BENCH_RATIO_MAX_EVENTS, alternate the slower policy alone and the pair
	# BENCH_RATIO_REPS times, back to back, and give the median ratio.
	if [ "$RATIO_REPS" -gt 1 ] && [ "$n" -le "$RATIO_MAX" ]; then
		rr=""
		i=0
		while [ $i -lt "$RATIO_REPS" ]; do
			run1 "$FR" replay "$src" -p "$slower" -o "$TMP/r.json" || break
			wa=$W
			run1 "$FR" replay "$src" -p "$first" -p "$second" -o "$TMP/r.json" || break
			rr="$rr $(echo "$W $wa" | awk '{printf "%.2f", $1 / $2}')"
			i=$((i + 1))
		done
		med=$(echo $rr | tr ' ' '\n' | sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}')
		[ -n "$med" ] && note="$note; alternating x$i: median ${med}x ($(echo $rr | tr ' ' '/'))"
	fi
	row "" "replay -p $first -p $second" "$pw" "$pc" "$pm" "$n" "$er" "$(bpage "$pm" "$pages")" "$note"
}

case $SECTIONS in *" replay "*)
	header "replay of the real recordings (directory: kpageflags initial state, 24 GiB machine)"
	for t in $TRACES; do
		replay_rows "$(basename "$t")" "$t" "$(events_of "$t/trace.dat")" "$REPS"
	done;;
esac

# synth_rows MEM EVENTS: generate, decode, replay
synth_rows() {
	mem=$1; ev=$2
	name="synth $mem/$ev"
	f=$TMP/synth-$mem-$ev.frt
	run1 "$FR" synth --mem "$mem" --events "$ev" --like "$LIKE" --seed 1 -o "$f" || { cat "$TMP/err" >&2; return; }
	n=$(events_of "$f")
	size=$(stat -c %s "$f")
	row "$name" "synth (generate + write)" "$W" "$C" "$M" "$n" "" "" "$(echo "$size $n" | awk '{printf "%.2f bytes/event", $1 / $2}')"
	reps=1
	[ "$n" -le 20000000 ] && reps=$REPS
	best "$reps" "$FR" info "$f"
	row "" "info .frt" "$W" "$C" "$M" "$n" "" "" ""
	replay_rows "" "$f" "$n" "$reps"
	rm -f "$f"
}

case $SECTIONS in *" synth "*)
	header "synthetic traces: fragreplay synth --like $(basename "$LIKE") (load: $(cut -d' ' -f1-3 /proc/loadavg))"
	for s in ${BENCH_SYNTH:-256G:10M 256G:100M}; do
		synth_rows "${s%%:*}" "${s#*:}"
	done;;
esac
if [ "$FULL" = 1 ]; then
	header "BENCH_FULL: a 1 TiB machine, 10 M / 100 M / 1 B events (load: $(cut -d' ' -f1-3 /proc/loadavg))"
	for s in ${BENCH_FULL_SYNTH:-1T:10M 1T:100M 1T:1G}; do
		synth_rows "${s%%:*}" "${s#*:}"
	done
fi
echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
