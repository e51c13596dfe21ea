/*-------------------------------------------------------------------------
 *
 * scan_cache.c
 *	  Remembering which control files have no preload marker.
 *
 * The postmaster looks for markers in every control file at every start,
 * and with a thousand extensions installed, reading them all is most of
 * what pg_extension_base adds to start-up.  Most files have no marker and
 * never change, so the preloader keeps, in the data directory, the identity
 * (device, inode, size, modification and change times in ns) of each
 * control file whose text has no marker.  At the next start such a file is not read while its
 * identity is unchanged; any change (a new file, a file replaced, edited in
 * place or appended to) gives it a new identity and it is read again: even
 * a tool that restores the modification time cannot restore the change
 * time.
 *
 * Timestamps are coarser than writes, so a file modified within
 * SCAN_CACHE_SETTLE_NS of the scan is never remembered: a second write in
 * the same timestamp tick could otherwise go unseen (as git does for
 * "racily clean" files).  The cache is only an optimisation: a missing,
 * unreadable or malformed cache is ignored and rewritten, and deleting it
 * is always safe.
 *
 * Runs in the postmaster before any other process exists; the data
 * directory is the working directory.  No locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/string.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/hsearch.h"

#include "preloader.h"

#define SCAN_CACHE_FILE		"pg_extension_base_preload.cache"
#define SCAN_CACHE_HEADER	"pg_extension_base preload scan cache 2\n"

/* Files modified this recently are not remembered; see the file header. */
#define SCAN_CACHE_SETTLE_NS	(INT64CONST(2) * 1000000000)

/*
 * Longest path remembered, with its NUL; longer ones are simply read every
 * time.  Small keys keep the table small, and the scan fast.
 */
#define SCAN_CACHE_MAX_PATH 256

/* One remembered control file; the hash key is its path. */
typedef struct ScanCacheEntry
{
	char		path[SCAN_CACHE_MAX_PATH];
	uint64		device;
	uint64		inode;
	int64		size;
	int64		mtime_ns;
	int64		ctime_ns;
	bool		seen;			/* listed by this scan */
} ScanCacheEntry;

/* What one start knows: the cache it loaded, and whether to rewrite it. */
struct ScanCache
{
	HTAB	   *entries;
	int			skipped;		/* files this scan did not read */
	int64		scan_start_ns;
};

static HTAB *new_table(void);
static bool same_identity(const ScanCacheEntry *entry, const PgebControlFileEntry *file);
static int64 now_ns(void);

/* Load the cache left by the last start; an empty one when there is none. */
ScanCache *
scan_cache_load(void)
{
	ScanCache  *cache = palloc0(sizeof(ScanCache));
	FILE	   *file;
	char		line[SCAN_CACHE_MAX_PATH + 128];

	cache->entries = new_table();
	cache->scan_start_ns = now_ns();

	file = AllocateFile(SCAN_CACHE_FILE, "r");
	if (file == NULL)
		return cache;

	if (fgets(line, sizeof(line), file) == NULL ||
		strcmp(line, SCAN_CACHE_HEADER) != 0)
	{
		FreeFile(file);
		return cache;
	}

	while (fgets(line, sizeof(line), file) != NULL)
	{
		char	   *p = line;
		char	   *end = line;
		int64		numbers[5];
		size_t		len = strlen(line);
		bool		ok = true;
		int			i;
		ScanCacheEntry *entry;

		/*
		 * "device inode size mtime_ns ctime_ns path\n", parsed by hand: it
		 * runs at every start
		 */
		for (i = 0; i < 5 && ok; i++)
		{
			numbers[i] = strtoi64(p, &end, 10);
			ok = (end != p && *end == ' ');
			p = end;
		}
		if (!ok || line[len - 1] != '\n' ||
			len - (end + 1 - line) > SCAN_CACHE_MAX_PATH)
		{
			/* damaged: forget all of it, the next scan reads everything */
			hash_destroy(cache->entries);
			cache->entries = new_table();
			break;
		}
		line[len - 1] = '\0';
		entry = hash_search(cache->entries, end + 1, HASH_ENTER, NULL);
		entry->device = (uint64) numbers[0];
		entry->inode = (uint64) numbers[1];
		entry->size = numbers[2];
		entry->mtime_ns = numbers[3];
		entry->ctime_ns = numbers[4];
		entry->seen = false;
	}
	FreeFile(file);
	return cache;
}

/*
 * The skip test for list_control_files: true when the file is remembered
 * as having no marker and its identity has not changed.
 */
bool
scan_cache_known_unmarked(const PgebControlFileEntry *file, void *arg)
{
	ScanCache  *cache = (ScanCache *) arg;
	ScanCacheEntry *entry;

	if (strlen(file->path) >= SCAN_CACHE_MAX_PATH)
		return false;
	entry = hash_search(cache->entries, file->path, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	entry->seen = true;
	if (!same_identity(entry, file))
		return false;
	cache->skipped++;
	return true;
}

/* How many files the scan did not read. */
int
scan_cache_skipped(ScanCache *cache)
{
	return cache->skipped;
}

/*
 * Remember the files of this scan that have no marker, unless that is what
 * the cache says already.  Failures are not worth more than a LOG line: the
 * next start reads everything again.
 */
void
scan_cache_save(ScanCache *cache, List *files)
{
	List	   *unmarked = NIL;
	bool		changed = false;
	HASH_SEQ_STATUS status;
	ScanCacheEntry *entry;
	ListCell   *lc;
	FILE	   *out;

	foreach(lc, files)
	{
		PgebControlFileEntry *file = (PgebControlFileEntry *) lfirst(lc);

		if (file->read)
		{
			ScanCacheEntry *known;

			/* read: remember it if it has no marker and has settled */
			if (file->text == NULL || strstr(file->text, PRELOAD_MARKER) != NULL ||
				file->ctime_ns == 0 ||
				Max(file->mtime_ns, file->ctime_ns) >= cache->scan_start_ns - SCAN_CACHE_SETTLE_NS ||
				strlen(file->path) >= SCAN_CACHE_MAX_PATH)
				continue;

			/* read for its requirements although remembered, or new */
			known = hash_search(cache->entries, file->path, HASH_FIND, NULL);
			changed |= (known == NULL || !same_identity(known, file));
		}
		unmarked = lappend(unmarked, file);
	}

	/* files that went away */
	hash_seq_init(&status, cache->entries);
	while ((entry = hash_seq_search(&status)) != NULL)
		changed |= !entry->seen;

	/*
	 * Nothing new, or a child re-running the scan (EXEC_BACKEND builds): the
	 * postmaster's scan is the one that writes.
	 */
	if ((!changed && list_length(unmarked) == hash_get_num_entries(cache->entries)) ||
		IsUnderPostmaster)
		return;

	out = AllocateFile(SCAN_CACHE_FILE ".tmp", "w");
	if (out == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", SCAN_CACHE_FILE ".tmp")));
		return;
	}
	fputs(SCAN_CACHE_HEADER, out);
	foreach(lc, unmarked)
	{
		PgebControlFileEntry *file = (PgebControlFileEntry *) lfirst(lc);

		fprintf(out, "%lld %lld %lld %lld %lld %s\n", (long long) file->device,
				(long long) file->inode, (long long) file->size,
				(long long) file->mtime_ns, (long long) file->ctime_ns, file->path);
	}
	if (FreeFile(out) != 0 || rename(SCAN_CACHE_FILE ".tmp", SCAN_CACHE_FILE) != 0)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", SCAN_CACHE_FILE)));
}

static bool
same_identity(const ScanCacheEntry *entry, const PgebControlFileEntry *file)
{
	return entry->device == file->device && entry->inode == file->inode &&
		entry->size == file->size && entry->mtime_ns == file->mtime_ns &&
		entry->ctime_ns == file->ctime_ns;
}

static HTAB *
new_table(void)
{
	HASHCTL		ctl;

	ctl.keysize = SCAN_CACHE_MAX_PATH;
	ctl.entrysize = sizeof(ScanCacheEntry);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create("pg_extension_base preload scan cache", 1024, &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* The wall clock in ns, the clock file modification times use. */
static int64
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64) ts.tv_sec * INT64CONST(1000000000) + ts.tv_nsec;
}
