#!/bin/sh
# Run every cmocka test program, then print the totals as the last line:
#   N passed, N failed, N skipped
# Exit status is non-zero when any test failed or a program crashed.
B=${B:-build}
export B
# Under SAN=1: known leaks in system libraries, and fail hard on any report.
LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# libtracecmd mallocs sizes read from the file; glibc returns NULL for absurd
# ones and libtracecmd fails cleanly (fuzz crasher tests/fuzz/crashers/tracedat/),
# while ASan aborts by default: give ASan glibc's behaviour.
ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS UBSAN_OPTIONS ASAN_OPTIONS
passed=0; failed=0; skipped=0; crashed=0
log=$(mktemp)
for t in "$@"; do
	echo "== $t"
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
	if [ -z "$p" ] && [ -z "$f" ]; then
		echo "$t: crashed or printed no summary (exit $rc)"
		crashed=$((crashed + 1)); failed=$((failed + 1))
	elif [ "$rc" != 0 ] && [ -z "$f" ]; then
		echo "$t: exit status $rc"
		crashed=$((crashed + 1)); failed=$((failed + 1))
	fi
done
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
