// SPDX-License-Identifier: GPL-2.0
/* fuzz_main.c - libFuzzer entry point; FUZZ_TARGET names the target (see targets.h). */
#include "targets.h"

#define STR2(x) #x
#define STR(x) STR2(x)

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int (*fn)(const uint8_t *, size_t);

	if (!fn)
		for (int i = 0; fz_targets[i].name; i++)
			if (!strcmp(fz_targets[i].name, STR(FUZZ_TARGET)))
				fn = fz_targets[i].fn;
	return fn ? fn(d, n) : 0;
}
