#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# record-tracefs.sh OUTDIR -- COMMAND [ARG...]
#
# Record the six kmem page-allocator tracepoints while COMMAND runs, into a
# recording directory laid out like ../shared/traces/mixed-6.18:
#
#   trace.dat                      trace-cmd extract of a private tracefs instance
#   kpageflags.start.zst/.end.zst  /proc/kpageflags just before / just after
#   zoneinfo, pagetypeinfo, buddyinfo .start/.end
#   stats                          per-CPU ring-buffer entries/overrun at the end
#
# Why an instance and not `trace-cmd record`: function tracing is locked on
# these machines and trace-cmd record aborts; an instance with only events
# enabled works, and its own buffer keeps other tracing users out of ours.
#
# Environment: FRAGREC_BUFFER_KB (per-CPU buffer, default 262144 = 256 MiB, so
# that a few seconds of allocator traffic never overruns).
#
# Exit status: COMMAND's status when the recording was written; 2 for usage
# errors, not root, no tracefs, missing tools; 3 if the ring buffer overran
# (the recording is kept, but events were lost).

set -u

prog=record-tracefs.sh
die() { echo "$prog: $*" >&2; exit 2; }

[ $# -ge 3 ] && [ "$2" = "--" ] || die "usage: $prog OUTDIR -- COMMAND [ARG...]"
out=$1
shift 2

[ "$(id -u)" = 0 ] || die "must run as root (tracefs instances and /proc/kpageflags need it)"
for tool in trace-cmd zstd; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

T=/sys/kernel/tracing
if [ ! -d "$T/instances" ]; then
	mount -t tracefs nodev "$T" 2>/dev/null
	[ -d "$T/instances" ] || die "no tracefs at $T (mount -t tracefs nodev $T failed)"
fi
for e in mm_page_alloc mm_page_free mm_page_free_batched mm_page_alloc_extfrag \
	 mm_page_alloc_zone_locked mm_page_pcpu_drain; do
	[ -e "$T/events/kmem/$e/enable" ] || die "this kernel has no kmem:$e tracepoint"
done

mkdir -p "$out" || die "cannot create $out"
[ -e "$out/trace.dat" ] && die "$out/trace.dat exists; refusing to overwrite a recording"

inst=fragrec-$$
I=$T/instances/$inst
created=0

cleanup() {
	# trace-cmd extract -B removes the instance itself (trace-cmd 3.1), so it
	# may already be gone here.
	if [ "$created" = 1 ] && [ -d "$I" ]; then
		echo 0 >"$I/tracing_on" 2>/dev/null
		# rmdir frees the (large) ring buffer; EBUSY only if someone holds it open
		rmdir "$I" 2>/dev/null || echo "$prog: could not remove instance $I" >&2
	fi
	created=0
	rm -f "$out/.kpageflags.tmp.zst" "$out/.extract.log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir "$I" || die "cannot create tracefs instance $I"
created=1

# A new instance starts with tracing_on=1: stop it before enabling events,
# so nothing is recorded until the start snapshots are taken.
echo 0 >"$I/tracing_on" || die "cannot write $I/tracing_on"
echo "${FRAGREC_BUFFER_KB:-262144}" >"$I/buffer_size_kb" || die "cannot size the ring buffer"
# global: one clock across CPUs, so a free on CPU 1 sorts after its alloc on CPU 0
echo global >"$I/trace_clock" && grep -q '\[global\]' "$I/trace_clock" ||
	die "cannot set trace_clock to global"
for e in mm_page_alloc mm_page_free mm_page_free_batched mm_page_alloc_extfrag \
	 mm_page_alloc_zone_locked mm_page_pcpu_drain; do
	echo 1 >"$I/events/kmem/$e/enable" || die "cannot enable kmem:$e"
done
: >"$I/trace"

# kpageflags: snapshot fast with zstd -1 (0.3 s, ~10 MB), then recompress at
# -19.  Piping /proc/kpageflags straight into zstd -19 takes a second and
# ~140 MB of the memory being photographed, which would appear allocated in
# the snapshot and be freed, untraced, before tracing starts.
kpageflags() {
	zstd -q -1 </proc/kpageflags >"$out/.kpageflags.tmp.zst" &&
		zstd -q -d -c "$out/.kpageflags.tmp.zst" | zstd -q -19 >"$out/kpageflags.$1.zst" &&
		rm -f "$out/.kpageflags.tmp.zst"
}
procfiles() {
	cat /proc/zoneinfo >"$out/zoneinfo.$1" &&
		cat /proc/pagetypeinfo >"$out/pagetypeinfo.$1" &&
		cat /proc/buddyinfo >"$out/buddyinfo.$1"
}

procfiles start || die "cannot snapshot /proc files"
kpageflags start || die "cannot snapshot /proc/kpageflags"

echo 1 >"$I/tracing_on"
"$@"
rc=$?
echo 0 >"$I/tracing_on"

kpageflags end || die "cannot snapshot /proc/kpageflags"
procfiles end || die "cannot snapshot /proc files"
grep -H -E '^(entries|overrun|commit overrun):' "$I"/per_cpu/cpu*/stats >"$out/stats" ||
	die "cannot read $I/per_cpu/*/stats"
# NB: trace-cmd 3.1 labels the buffer's clock "local" in trace.dat whatever
# the instance used (extract has no -C); the timestamps are the global clock's.
trace-cmd extract -B "$inst" -o "$out/trace.dat" >"$out/.extract.log" 2>&1 || {
	cat "$out/.extract.log" >&2
	rm -f "$out/.extract.log"
	die "trace-cmd extract failed"
}
rm -f "$out/.extract.log"
cleanup

if grep -q -E ':(overrun|commit overrun): [1-9]' "$out/stats"; then
	echo "$prog: the ring buffer overran; events were lost (see $out/stats)" >&2
	exit 3
fi
[ "$rc" = 0 ] || echo "$prog: the command exited with status $rc; recording kept in $out" >&2
exit "$rc"
