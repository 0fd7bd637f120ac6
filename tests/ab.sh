#!/bin/sh
# ab.sh - before/after engine rates on a noisy machine: alternate builds,
# report medians.  Never part of `make test`; docs/bench.md says why.
#
#   sh tests/ab.sh N TRACE POLICY BUILD_DIR...
#
# Runs `BUILD_DIR/fragreplay replay TRACE -p POLICY` N times per build,
# the builds interleaved (A B A B ...) so that drift in the machine's speed
# hits every build alike, and prints per build the median engine rate
# (M events/s: events / CPU time of the policy's thread) and all values.
# Example: keep the old build with `cp -r build /tmp/build-old`, rebuild,
#   sh tests/ab.sh 9 /tmp/s256.frt vanilla /tmp/build-old build
[ $# -ge 4 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
n=$1; trace=$2; pol=$3; shift 3
for b in "$@"; do
	[ -x "$b/fragreplay" ] || { echo "ab.sh: $b/fragreplay missing" >&2; exit 2; }
done
i=0
while [ $i -lt "$n" ]; do
	for b in "$@"; do
		r=$("$b/fragreplay" replay "$trace" -p "$pol" -o /dev/null 2>&1 |
			grep -o '[0-9.]* M events/s' | head -1 | cut -d' ' -f1)
		[ -n "$r" ] || { echo "ab.sh: $b: replay failed" >&2; exit 1; }
		echo "$b $r"
	done
	i=$((i + 1))
done | sort -k1,1 -k2,2n | awk '
	{ c[$1]++; v[$1, c[$1]] = $2; all[$1] = all[$1] " " $2 }
	END { for (k in c) printf "%s: median %s M events/s (all:%s)\n", k, v[k, int((c[k] + 1) / 2)], all[k] }'
