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
	int zstd;		/* data is a zstd frame (detected from the magic 28 b5 2f fd) */
	const char *name;	/* snapshot name for error messages (static string,
				 * set by fr_snapshots_load_dir); NULL: "kpageflags" */
};

struct fr_snapshots {
	struct fr_blob blob[FR_NSNAPS];
};

/* File name inside a recording directory, e.g. "kpageflags.start.zst". */
const char *fr_snap_filename(int id);
/* Short name used in .frt sections and JSON, e.g. "kpageflags.start". */
const char *fr_snap_name(int id);

/* Snapshot id from its short name ("zoneinfo.start"), -1 if unknown. */
int fr_snap_from_name(const char *name);

/*
 * Load every snapshot file present in DIR (absent ones stay NULL: that is not
 * an error).  Each file is looked up under its canonical name first, then the
 * alternative: kpageflags.start.zst or an uncompressed kpageflags.start;
 * zoneinfo.start or a zstd-compressed zoneinfo.start.zst (likewise for every
 * text snapshot).  Compression is detected from content, not from the name.
 * *s is overwritten (start from a zeroed or freed struct); on failure nothing
 * stays allocated.
 */
int fr_snapshots_load_dir(struct fr_snapshots *s, const char *dir, struct fr_error *err);
void fr_snapshots_free(struct fr_snapshots *s);
/*
 * Decompressed text of a text snapshot, NUL-terminated (caller frees); *len
 * (if non-NULL) excludes the NUL.  NULL on error, and also when the snapshot is
 * absent (err then says "NAME: not in the recording"; test s->blob[id].data
 * first to tell the two apart).
 */
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

/*
 * Streaming reader of a kpageflags blob: one u64 per pfn from pfn 0
 * (little-endian, as every recording so far is x86-64).  Memory is bounded:
 * a 64 KiB output window plus the zstd window, whatever the blob's size.
 * Errors are one line naming the snapshot (blob->name) and a byte offset:
 * into the compressed blob for zstd errors, into the decompressed flag array
 * for a length that is not a multiple of 8.  An uncompressed blob of such a
 * length fails at open; a compressed one when the reader reaches its end.
 */
struct fr_kpf_reader;
struct fr_kpf_reader *fr_kpf_open(const struct fr_blob *b, struct fr_error *err);
/* Fill up to n flag words for the next pfns. Returns count, 0 at end, -1 on error. */
long fr_kpf_read(struct fr_kpf_reader *r, uint64_t *flags, size_t n, struct fr_error *err);
/*
 * Total pfns (decompressed size / 8) from the zstd frame headers; 0 if unknown.
 * NB: `zstd < /proc/kpageflags` cannot know the size, so recordings made that
 * way (all of them so far) give 0 here: use fr_kpf_count or zoneinfo spans.
 */
uint64_t fr_kpf_npfns(const struct fr_blob *b);
/* Total pfns by decompressing the whole blob (bounded memory, as the reader). */
int fr_kpf_count(const struct fr_blob *b, uint64_t *npfns, struct fr_error *err);
void fr_kpf_close(struct fr_kpf_reader *r);

/* One zone of /proc/zoneinfo. */
struct fr_zone_info {
	char name[16];		/* "DMA", "DMA32", "Normal", "Movable" */
	int node;
	uint64_t start_pfn, spanned, present, managed;
	uint64_t wmark_min, wmark_low, wmark_high;
	uint32_t pcp_batch, pcp_high, pcp_high_min, pcp_high_max; /* first CPU's pageset */
	/* Added after the original layout: */
	uint32_t pcp_count;	/* first CPU's pageset: pages on its pcp lists */
	uint64_t pages_free;	/* "pages free": NR_FREE_PAGES (buddy only, not pcp) */
};

#define FR_MAX_ZONES 16
struct fr_zoneinfo {
	int nr_zones;
	struct fr_zone_info zone[FR_MAX_ZONES];
};

/*
 * Parse /proc/zoneinfo text (need not be NUL-terminated); zones with
 * spanned == 0 are skipped.  The pageset fields are the first "cpu:" block
 * after "pagesets" (high_min/high_max exist since 6.7; 0 before).  Unknown
 * lines are ignored, as kernels keep adding counters; a known field with a
 * bad number, a populated zone lacking spanned/present/managed/min/low/high/
 * start_pfn, more than FR_MAX_ZONES populated zones, or text that is not
 * zoneinfo at all fail with "WHAT: ... (at line N)".
 */
int fr_zoneinfo_parse(const char *text, size_t len, struct fr_zoneinfo *zi,
		      const char *what, struct fr_error *err);
/* The zone NAME of NODE, NULL if absent (or unpopulated). */
const struct fr_zone_info *fr_zoneinfo_find(const struct fr_zoneinfo *zi, int node,
					    const char *name);

/* Orders a /proc table can have: MAX_PAGE_ORDER + 1 is 11 on x86-64, at most 16 anywhere. */
#define FR_MAX_ORDERS 16
/* enum fr_mt (fr_event.h) has 6 migratetypes; kept literal so this header stands alone. */
#define FR_SNAP_NMT 6

/*
 * /proc/pagetypeinfo, one populated zone.  The kernel's "Free pages count per
 * migrate type at order" table counts free-list ENTRIES, i.e. free chunks of
 * 2^order pages (not pages).  It stops counting a list at 100000 and prints
 * ">100000": such cells hold 100000 and have their order bit set in capped[mt].
 * Rows are indexed by enum fr_mt (Unmovable 0, Movable 1, Reclaimable 2,
 * HighAtomic 3, CMA 4, Isolate 5) whatever order the kernel printed them in.
 */
struct fr_pti_zone {
	char name[16];
	int node;
	uint64_t free[FR_SNAP_NMT][FR_MAX_ORDERS]; /* free chunks per migratetype x order */
	uint32_t capped[FR_SNAP_NMT];	/* bit o: free[mt][o] is a lower bound (">100000") */
	uint64_t blocks[FR_SNAP_NMT];	/* "Number of blocks type": pageblocks of each type */
	int has_free, has_blocks;	/* which tables mentioned this zone */
};

struct fr_pagetypeinfo {
	int pageblock_order;		/* "Page block order:", -1 if not printed */
	uint64_t pages_per_block;	/* "Pages per block:", 0 if not printed */
	int nr_orders;			/* columns of the free table (11 on x86-64) */
	unsigned mt_present;		/* bit mt: the kernel printed this migratetype
					 * (CMA only with CONFIG_CMA, Isolate with
					 * CONFIG_MEMORY_ISOLATION) */
	int nr_zones;
	struct fr_pti_zone zone[FR_MAX_ZONES];
};

/*
 * Parse /proc/pagetypeinfo.  The free table and the block-count table are
 * read; other tables (page_owner's "Number of mixed blocks") are skipped.
 * An unknown migratetype name, a malformed row, or text without the free
 * table fail with "WHAT: ... (at line N)".
 */
int fr_pagetypeinfo_parse(const char *text, size_t len, struct fr_pagetypeinfo *pti,
			  const char *what, struct fr_error *err);
const struct fr_pti_zone *fr_pagetypeinfo_find(const struct fr_pagetypeinfo *pti, int node,
					       const char *name);

/* /proc/buddyinfo, one populated zone: free chunks per order, all migratetypes. */
struct fr_buddy_zone {
	char name[16];
	int node;
	uint64_t free[FR_MAX_ORDERS];	/* free chunks of 2^order pages (not pages) */
};

struct fr_buddyinfo {
	int nr_orders;			/* columns per row, the same for every row */
	int nr_zones;
	struct fr_buddy_zone zone[FR_MAX_ZONES];
};

/* Parse /proc/buddyinfo; every non-blank line must be "Node N, zone NAME c0 c1 ...". */
int fr_buddyinfo_parse(const char *text, size_t len, struct fr_buddyinfo *bi,
		       const char *what, struct fr_error *err);
const struct fr_buddy_zone *fr_buddyinfo_find(const struct fr_buddyinfo *bi, int node,
					      const char *name);

#endif
