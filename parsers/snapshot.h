/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapshot.h - the machine state around a recording: /proc/kpageflags,
 * /proc/zoneinfo, /proc/pagetypeinfo, /proc/buddyinfo, at start and end.
 *
 * Snapshots are held as blobs (kpageflags stays zstd-compressed in memory:
 * 200 KB instead of 50 MB for a 24 GiB machine) and decoded on demand.
 */
#ifndef FR_SNAPSHOT_H
#define FR_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include "fr_error.h"

enum fr_snap_id {
	FR_SNAP_KPAGEFLAGS_START, FR_SNAP_KPAGEFLAGS_END,
	FR_SNAP_ZONEINFO_START, FR_SNAP_ZONEINFO_END,
	FR_SNAP_PAGETYPEINFO_START, FR_SNAP_PAGETYPEINFO_END,
	FR_SNAP_BUDDYINFO_START, FR_SNAP_BUDDYINFO_END,
	FR_SNAP_STATS,		/* per-CPU ring-buffer stats at stop */
	FR_NSNAPS
};

struct fr_blob {
	unsigned char *data;	/* NULL: absent */
	size_t len;
	int zstd;		/* data is a zstd frame */
};

struct fr_snapshots {
	struct fr_blob blob[FR_NSNAPS];
};

/* File name inside a recording directory, e.g. "kpageflags.start.zst". */
const char *fr_snap_filename(int id);
/* Short name used in .frt sections and JSON, e.g. "kpageflags.start". */
const char *fr_snap_name(int id);

/* Load every snapshot file present in DIR. */
int fr_snapshots_load_dir(struct fr_snapshots *s, const char *dir, struct fr_error *err);
void fr_snapshots_free(struct fr_snapshots *s);
/* Decompressed text of a text snapshot (caller frees), NULL if absent or on error. */
char *fr_snap_text(const struct fr_snapshots *s, int id, size_t *len, struct fr_error *err);

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h). */
#define KPF_LOCKED 0
#define KPF_ERROR 1
#define KPF_REFERENCED 2
#define KPF_UPTODATE 3
#define KPF_DIRTY 4
#define KPF_LRU 5
#define KPF_ACTIVE 6
#define KPF_SLAB 7
#define KPF_WRITEBACK 8
#define KPF_RECLAIM 9
#define KPF_BUDDY 10
#define KPF_MMAP 11
#define KPF_ANON 12
#define KPF_SWAPCACHE 13
#define KPF_SWAPBACKED 14
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_UNEVICTABLE 18
#define KPF_HWPOISON 19
#define KPF_NOPAGE 20
#define KPF_KSM 21
#define KPF_THP 22
#define KPF_OFFLINE 23
#define KPF_ZERO_PAGE 24
#define KPF_IDLE 25
#define KPF_PGTABLE 26
#define KPF_RESERVED 32
#define KPF_MLOCKED 33
#define KPF_MAPPEDTODISK 34
#define KPF_PRIVATE 35
#define KPF_PRIVATE_2 36
#define KPF_OWNER_PRIVATE 37
#define KPF_ARCH 38
#define KPF_UNCACHED 39
#define KPF_SOFTDIRTY 40
#define KPF_ARCH_2 41

/* Streaming reader of a kpageflags blob: one u64 per pfn from pfn 0. */
struct fr_kpf_reader;
struct fr_kpf_reader *fr_kpf_open(const struct fr_blob *b, struct fr_error *err);
/* Fill up to n flag words for the next pfns. Returns count, 0 at end, -1 on error. */
long fr_kpf_read(struct fr_kpf_reader *r, uint64_t *flags, size_t n, struct fr_error *err);
uint64_t fr_kpf_npfns(const struct fr_blob *b); /* total pfns (decompressed size / 8), 0 if unknown */
void fr_kpf_close(struct fr_kpf_reader *r);

/* One zone of /proc/zoneinfo. */
struct fr_zone_info {
	char name[16];		/* "DMA", "DMA32", "Normal", "Movable" */
	int node;
	uint64_t start_pfn, spanned, present, managed;
	uint64_t wmark_min, wmark_low, wmark_high;
	uint32_t pcp_batch, pcp_high, pcp_high_min, pcp_high_max; /* first CPU's pageset */
};

#define FR_MAX_ZONES 16
struct fr_zoneinfo {
	int nr_zones;
	struct fr_zone_info zone[FR_MAX_ZONES];
};

/* Parse /proc/zoneinfo text; zones with spanned == 0 are skipped. */
int fr_zoneinfo_parse(const char *text, size_t len, struct fr_zoneinfo *zi,
		      const char *what, struct fr_error *err);

#endif
