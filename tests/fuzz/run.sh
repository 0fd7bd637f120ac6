#!/bin/sh
# make fuzz: build every parser target with libFuzzer + ASan + UBSan (clang)
# and run each for FUZZ_SECONDS (default 600). New corpus entries go to
# build-fuzz/corpus/<target>/; crashers are saved in tests/fuzz/crashers/<target>/
# and become regression tests (tests/test_fuzz_regress.c replays them).
#   FUZZ_TARGETS="text frt"  only these;   FUZZ_JOBS=2  parallel jobs per target
set -e
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SECONDS:-600}
TARGETS=${FUZZ_TARGETS:-"text frt tracedat kpageflags procsnap"}
OUT=build-fuzz
PKGS="libtracecmd libtracefs libtraceevent libzstd jansson"
command -v clang >/dev/null || { echo "fuzz: clang missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
mkdir -p "$OUT"
for t in $TARGETS; do
	echo "fuzz: building $t" >&2
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-DFUZZ_TARGET=$t -Iparsers $(pkg-config --cflags $PKGS) \
		tests/fuzz/fuzz_main.c parsers/*.c -o "$OUT/fuzz_$t" $(pkg-config --libs $PKGS) -ldl -lpthread -lm
done
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
# libtracecmd mallocs sizes read from the file and checks for NULL: let ASan's
# malloc return NULL like glibc's instead of aborting (see tests/run.sh)
export ASAN_OPTIONS="allocator_may_return_null=1"
for t in $TARGETS; do
	mkdir -p "$OUT/corpus/$t" "tests/fuzz/crashers/$t"
	maxlen=65536
	[ "$t" = tracedat ] && maxlen=1300000
	echo "fuzz: running $t for ${SECONDS_EACH}s" >&2
	"$OUT/fuzz_$t" "$OUT/corpus/$t" "tests/fuzz/seeds/$t" -max_total_time="$SECONDS_EACH" \
		-max_len=$maxlen -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="tests/fuzz/crashers/$t/" ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
		> "$OUT/fuzz_$t.log" 2>&1 || echo "fuzz: $t FOUND A CRASH, see $OUT/fuzz_$t.log and tests/fuzz/crashers/$t/" >&2
	grep -E "stat::number_of_executed_units|stat::new_units_added|cov:" "$OUT/fuzz_$t.log" | tail -3 >&2
done
