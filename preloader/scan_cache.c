/*-------------------------------------------------------------------------
 *
 * scan_cache.c
 *	  Remembering what the control files said at the last start.
 *
 * The postmaster looks for markers in every control file at every start,
 * and with a thousand extensions installed, reading and parsing them is most
 * of what pg_extension_base would add to start-up.  Control files rarely
 * change, so the preloader keeps, in the data directory, the identity
 * (device, inode, size, modification and change times in ns) of each
 * control file together with the facts it needs from it: whether it asks
 * for preloading, the libraries it asks for (resolved to names) and the
 * extensions it requires.  At the next start a file whose identity is
 * unchanged is neither read nor parsed; any change (a new file, a file
 * replaced, edited in place or appended to) gives it a new identity and it
 * is read again: even a tool that restores the modification time cannot
 * restore the change time.
 *
 * Only facts that depend on nothing but the file itself are remembered: a
 * file with a secondary control file beside it, or whose script directory is
 * elsewhere, is read at every start, and so is a file that produced a
 * warning (a malformed or indented marker, a parse error), so that the
 * warning is repeated at every start.
 *
 * Listing a directory costs about as much as looking at every file in it,
 * so the cache also keeps, for each extension directory, its identity and
 * the names of the control files in it, and gives them back to the listing
 * (meta/control_listing.c) while the directory's identity is unchanged: adding,
 * removing or renaming a file in it changes its modification and change
 * times.  The files themselves are still looked at, one fstatat() each.
 *
 * Timestamps are coarser than writes, so a file or directory modified
 * within SCAN_CACHE_SETTLE_NS of the scan is never remembered: a second
 * write in the same timestamp tick could otherwise go unseen (as git does
 * for "racily clean" files).  The cache is only an optimisation: a missing,
 * unreadable or malformed cache is ignored and rewritten, and deleting it
 * is always safe.
 *
 * File format, after a header line, one line per remembered directory:
 *	 D device inode size mtime_ns ctime_ns path<TAB>names
 * with the control file names (without ".control") sorted and separated by
 * "/", which no file name contains; then one line per remembered control
 * file:
 *	 device inode size mtime_ns ctime_ns M|U name<TAB>path<TAB>requires<TAB>libraries
 * with M for a file that asks for preloading, U for one that does not,
 * requires and libraries as comma-separated names, lines sorted by name.
 * It is read with one read() and parsed in place, and the scan, which asks
 * in name order too, finds each file at the next line: it runs at every
 * start.
 *
 * Runs in the postmaster before any other process exists; the data
 * directory is the working directory.  No locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "preloader.h"

#define SCAN_CACHE_FILE		"pg_extension_base_preload.cache"
#define SCAN_CACHE_HEADER	"pg_extension_base preload scan cache 4\n"

/* Files and directories modified this recently are not remembered. */
#define SCAN_CACHE_SETTLE_NS	(INT64CONST(2) * 1000000000)

/* One remembered control file; name and path are the key. */
typedef struct ScanCacheEntry
{
	const char *name;
	const char *path;
	PgebFileIdentity identity;
	bool		marked;
	const char *requires;		/* comma-separated names, "" for none */
	const char *libraries;		/* marked: resolved names, in marker order */
	bool		unchanged;		/* listed by this scan with this identity */
} ScanCacheEntry;

/* One remembered extension directory; path is the key. */
typedef struct ScanCacheDirectory
{
	const char *path;
	PgebFileIdentity identity;
	const char **names;			/* sorted; "a/a--1.1/b" in the file */
	int			count;
	bool		unchanged;		/* listed by this scan with this identity */
} ScanCacheDirectory;

/* What one start knows: the cache it loaded, and what it learned. */
struct ScanCache
{
	ScanCacheEntry *entries;	/* as loaded, sorted by name */
	int			count;
	int			cursor;			/* where the next lookup probably is */
	List	   *fresh;			/* ScanCacheEntry *: learned by this scan */
	ScanCacheDirectory *directories;	/* as loaded */
	int			directory_count;
	List	   *fresh_directories;	/* ScanCacheDirectory *: listed anew */
	bool		directories_changed;	/* one listed anew, or one forgotten */
	PgebListingCallbacks callbacks; /* for list_control_files */
	int			skipped;		/* files this scan did not read */
	bool		damaged;		/* the loaded cache was thrown away */
	int64		scan_start_ns;
};

static char *read_cache_file(void);
static bool parse_cache_line(ScanCacheEntry *entry, char *line);
static bool parse_directory_line(ScanCacheDirectory *directory, char *line);
static bool parse_identity(char **p, PgebFileIdentity *identity);
static bool scan_cache_known(const PgebControlFileEntry *file, void *arg);
static const char *const *known_names(const char *path,
									  const PgebFileIdentity *identity,
									  int *count, void *arg);
static void listed_names(const char *path, const PgebFileIdentity *identity,
						 const char *const *names, int count, void *arg);
static bool same_names(const ScanCacheDirectory *directory,
					   const char *const *names, int count);
static ScanCacheDirectory *find_directory(ScanCache *cache, const char *path);
static bool settled(ScanCache *cache, const PgebFileIdentity *identity);
static void write_identity(FILE *out, const PgebFileIdentity *identity);
static void write_directory_line(FILE *out, const ScanCacheDirectory *directory);
static bool parse_number(char **p, int64 *value);
static ScanCacheEntry *find_remembered(ScanCache *cache, const PgebControlFileEntry *file);
static bool same_identity(const PgebFileIdentity *a, const PgebFileIdentity *b);
static char *join_names(List *names);
static List *split_names(const char *joined);
static int	compare_entries_by_name(const void *a, const void *b);
static int	compare_entry_pointers_by_name(const void *a, const void *b);
static int64 now_ns(void);

/* Load the cache left by the last start; an empty one when there is none. */
ScanCache *
scan_cache_load(void)
{
	ScanCache  *cache = palloc0(sizeof(ScanCache));
	char	   *text;
	char	   *line;
	int			lines = 0;

	cache->scan_start_ns = now_ns();
	cache->callbacks.skip_read = scan_cache_known;
	cache->callbacks.known_names = known_names;
	cache->callbacks.listed_names = listed_names;
	cache->callbacks.arg = cache;

	text = read_cache_file();
	if (text == NULL || strncmp(text, SCAN_CACHE_HEADER, strlen(SCAN_CACHE_HEADER)) != 0)
	{
		cache->damaged = true;
		return cache;
	}

	line = text + strlen(SCAN_CACHE_HEADER);
	for (char *p = line; *p != '\0'; p++)
		lines += (*p == '\n');
	cache->entries = palloc(sizeof(ScanCacheEntry) * (lines + 1));

	/* the directories first */
	for (char *p = line; strncmp(p, "D ", 2) == 0 && (p = strchr(p, '\n')) != NULL; p++)
		cache->directory_count++;
	cache->directories = palloc(sizeof(ScanCacheDirectory) * (cache->directory_count + 1));
	for (int i = 0; i < cache->directory_count; i++)
	{
		char	   *end = strchr(line, '\n');

		*end = '\0';
		if (!parse_directory_line(&cache->directories[i], line))
		{
			cache->directory_count = 0;
			cache->damaged = true;
			return cache;
		}
		line = end + 1;
	}

	while (*line != '\0')
	{
		char	   *end = strchr(line, '\n');
		ScanCacheEntry *entry = &cache->entries[cache->count];

		if (end != NULL)
			*end = '\0';
		if (end == NULL || !parse_cache_line(entry, line) ||
			(cache->count > 0 && strcmp(entry[-1].name, entry->name) >= 0))
		{
			/* damaged: forget all of it, this scan reads everything */
			cache->count = 0;
			cache->directory_count = 0;
			cache->damaged = true;
			break;
		}
		cache->count++;
		line = end + 1;
	}
	return cache;
}

/* The callbacks that let list_control_files use and fill the cache. */
const PgebListingCallbacks *
scan_cache_listing_callbacks(ScanCache *cache)
{
	return &cache->callbacks;
}

/* The whole cache file, NUL-terminated, or NULL when there is none. */
static char *
read_cache_file(void)
{
	int			fd = OpenTransientFile(SCAN_CACHE_FILE, O_RDONLY | PG_BINARY);
	struct stat st;
	char	   *text;
	ssize_t		n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size > (off_t) (MaxAllocSize - 1))
	{
		CloseTransientFile(fd);
		return NULL;
	}
	text = palloc(st.st_size + 1);
	n = read(fd, text, st.st_size);
	CloseTransientFile(fd);
	if (n != st.st_size)
		return NULL;
	text[n] = '\0';
	return text;
}

/*
 * "device inode size mtime_ns ctime_ns M|U name\tpath\trequires\tlibraries",
 * the newline already cut off, parsed in place: the strings stay in the
 * loaded text.
 */
static bool
parse_cache_line(ScanCacheEntry *entry, char *line)
{
	char	   *fields[4];
	char	   *p = line;
	int			i;

	if (!parse_identity(&p, &entry->identity))
		return false;
	if ((*p != 'M' && *p != 'U') || p[1] != ' ')
		return false;
	entry->marked = (*p == 'M');
	p += 2;
	for (i = 0; i < 4; i++)
	{
		char	   *tab = strchr(p, '\t');

		fields[i] = p;
		if ((tab == NULL) != (i == 3))
			return false;
		if (tab != NULL)
		{
			*tab = '\0';
			p = tab + 1;
		}
	}
	if (fields[0][0] == '\0' || fields[1][0] == '\0' ||
		(entry->marked && fields[3][0] == '\0'))
		return false;

	entry->name = fields[0];
	entry->path = fields[1];
	entry->requires = fields[2];
	entry->libraries = fields[3];
	entry->unchanged = false;
	return true;
}

/*
 * "D device inode size mtime_ns ctime_ns path\tnames", the newline already
 * cut off, parsed in place.
 */
static bool
parse_directory_line(ScanCacheDirectory *directory, char *line)
{
	char	   *p = line + 2;
	char	   *tab;
	int			allocated = 1;

	if (!parse_identity(&p, &directory->identity))
		return false;
	tab = strchr(p, '\t');
	if (tab == NULL || tab == p || strchr(tab + 1, '\t') != NULL)
		return false;
	*tab = '\0';
	directory->path = p;
	directory->count = 0;
	directory->unchanged = false;

	/*
	 * The names, split in place: none empty (also not after a last slash),
	 * strictly sorted.  An empty list is a directory without control files.
	 */
	p = tab + 1;
	for (const char *q = p; *q != '\0'; q++)
		allocated += (*q == '/');
	directory->names = palloc(sizeof(char *) * allocated);
	if (*p == '\0')
		return true;
	for (;;)
	{
		char	   *slash = strchr(p, '/');

		if (slash != NULL)
			*slash = '\0';
		if (*p == '\0' ||
			(directory->count > 0 &&
			 strcmp(directory->names[directory->count - 1], p) >= 0))
			return false;
		directory->names[directory->count++] = p;
		if (slash == NULL)
			return true;
		p = slash + 1;
	}
}

/* "device inode size mtime_ns ctime_ns ", as written by write_identity. */
static bool
parse_identity(char **p, PgebFileIdentity *identity)
{
	int64		numbers[5];
	int			i;

	for (i = 0; i < 5; i++)
	{
		if (!parse_number(p, &numbers[i]) || *(*p)++ != ' ')
			return false;
	}
	identity->device = (uint64) numbers[0];
	identity->inode = (uint64) numbers[1];
	identity->size = numbers[2];
	identity->mtime_ns = numbers[3];
	identity->ctime_ns = numbers[4];
	return true;
}

static void
write_identity(FILE *out, const PgebFileIdentity *identity)
{
	fprintf(out, "%lld %lld %lld %lld %lld ",
			(long long) identity->device, (long long) identity->inode,
			(long long) identity->size, (long long) identity->mtime_ns,
			(long long) identity->ctime_ns);
}

/*
 * A decimal number, possibly negative, that fits in an int64; *p is left
 * after it.  A longer one is damage, not something to wrap around.
 */
static bool
parse_number(char **p, int64 *value)
{
	char	   *s = *p;
	bool		negative = (*s == '-');
	uint64		limit;
	uint64		result = 0;

	if (negative)
		s++;
	limit = negative ? (uint64) PG_INT64_MAX + 1 : (uint64) PG_INT64_MAX;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
	{
		int			digit = *s++ - '0';

		if (result > (limit - digit) / 10)
			return false;
		result = result * 10 + digit;
	}
	if (!negative)
		*value = (int64) result;
	else if (result == (uint64) PG_INT64_MAX + 1)
		*value = PG_INT64_MIN;	/* its negation would overflow */
	else
		*value = -(int64) result;
	*p = s;
	return true;
}

/*
 * The remembered entry of a control file, or NULL.  The scan asks in name
 * order, the order of the cache, so the next entry is usually the one.
 */
static ScanCacheEntry *
find_remembered(ScanCache *cache, const PgebControlFileEntry *file)
{
	ScanCacheEntry *entry = NULL;

	if (cache->cursor < cache->count &&
		strcmp(cache->entries[cache->cursor].name, file->name) == 0)
		entry = &cache->entries[cache->cursor];
	else if (cache->count > 0)
	{
		ScanCacheEntry key;

		key.name = file->name;
		/* cppcheck-suppress uninitvar ; compare_entries_by_name() reads only key.name */
		entry = bsearch(&key, cache->entries, cache->count,
						sizeof(ScanCacheEntry), compare_entries_by_name);
	}
	if (entry == NULL || strcmp(entry->path, file->path) != 0)
		return NULL;
	cache->cursor = entry - cache->entries + 1;
	return entry;
}

/*
 * The skip test for list_control_files: true when the file is remembered
 * and its identity has not changed.
 */
static bool
scan_cache_known(const PgebControlFileEntry *file, void *arg)
{
	ScanCache  *cache = (ScanCache *) arg;
	ScanCacheEntry *entry = find_remembered(cache, file);

	if (entry == NULL || !same_identity(&entry->identity, &file->identity))
		return false;			/* scan_cache_save sees it was not kept */
	entry->unchanged = true;
	cache->skipped++;
	return true;
}

/*
 * known_names for list_control_files: the names remembered for a directory
 * that has not changed since (sorted and non-empty, as parsing checked).
 * The caller finds out whether the files are there.
 */
static const char *const *
known_names(const char *path, const PgebFileIdentity *identity, int *count,
			void *arg)
{
	ScanCacheDirectory *directory = find_directory((ScanCache *) arg, path);

	if (directory == NULL || !same_identity(&directory->identity, identity))
		return NULL;
	*count = directory->count;
	return directory->names;
}

/*
 * listed_names for list_control_files: what a directory holds now.  An
 * unchanged directory is written back as it was; a changed one is
 * remembered anew once it has settled.
 */
static void
listed_names(const char *path, const PgebFileIdentity *identity,
			 const char *const *names, int count, void *arg)
{
	ScanCache  *cache = (ScanCache *) arg;
	ScanCacheDirectory *loaded = find_directory(cache, path);
	ScanCacheDirectory *fresh;
	int			i;

	if (loaded != NULL && same_identity(&loaded->identity, identity) &&
		same_names(loaded, names, count))
	{
		loaded->unchanged = true;
		return;
	}
	/* the remembered names, if any, are wrong now */
	if (loaded != NULL)
		cache->directories_changed = true;
	if (!settled(cache, identity) || strpbrk(path, "\t\n") != NULL)
		return;

	for (i = 0; i < count; i++)
	{
		if (names[i][0] == '\0' || strpbrk(names[i], "\t\n") != NULL)
			return;
	}

	/* the names live in the scan's memory until scan_cache_save */
	fresh = palloc0(sizeof(ScanCacheDirectory));
	fresh->path = pstrdup(path);
	fresh->identity = *identity;
	fresh->names = palloc(sizeof(char *) * (count + 1));
	memcpy(fresh->names, names, sizeof(char *) * count);
	fresh->count = count;
	cache->fresh_directories = lappend(cache->fresh_directories, fresh);
	cache->directories_changed = true;
}

/*
 * Whether the listing holds the names known_names gave (the listing read
 * the directory after all when one of them was gone).
 */
static bool
same_names(const ScanCacheDirectory *directory, const char *const *names,
		   int count)
{
	if (directory->count != count)
		return false;
	for (int i = 0; i < count; i++)
	{
		if (names[i] != directory->names[i] &&
			strcmp(names[i], directory->names[i]) != 0)
			return false;
	}
	return true;
}

static ScanCacheDirectory *
find_directory(ScanCache *cache, const char *path)
{
	for (int i = 0; i < cache->directory_count; i++)
	{
		if (strcmp(cache->directories[i].path, path) == 0)
			return &cache->directories[i];
	}
	return NULL;
}

/*
 * Whether a file or directory last changed long enough before this scan
 * that a change made after it would show in its timestamps.
 */
static bool
settled(ScanCache *cache, const PgebFileIdentity *identity)
{
	return identity->ctime_ns != 0 &&
		Max(identity->mtime_ns, identity->ctime_ns) <
		cache->scan_start_ns - SCAN_CACHE_SETTLE_NS;
}

/*
 * Whether what a control file says depends on nothing but the file: no
 * secondary control file beside it (control is NULL before parsing), and
 * its scripts in its own directory.  Only such facts are remembered.
 */
bool
scan_cache_file_alone(const PgebControlFileEntry *file,
					  const PgebControlFile *control)
{
	return file->secondary_versions == NIL &&
		(control == NULL ||
		 strcmp(control->script_directory, control->directory) == 0);
}

/*
 * What the cache remembers of a file the scan did not read: whether it asks
 * for preloading, and (when libraries or requires is not NULL) its libraries
 * and its requirements.  False when the facts cannot be trusted: a
 * secondary control file has appeared beside it since.
 */
bool
scan_cache_facts(ScanCache *cache, const PgebControlFileEntry *file,
				 bool *marked, List **libraries, List **requires)
{
	ScanCacheEntry *entry;

	if (file->read || !scan_cache_file_alone(file, NULL))
		return false;
	entry = find_remembered(cache, file);
	if (entry == NULL || !entry->unchanged)
		return false;
	*marked = entry->marked;
	if (libraries != NULL)
		*libraries = entry->marked ? split_names(entry->libraries) : NIL;
	if (requires != NULL)
		*requires = split_names(entry->requires);
	return true;
}

/*
 * Remember what this scan learned from a file it read: libraries (resolved
 * names, for a file that asks for preloading, else NIL) and requirements.
 * The caller passes only facts that depend on the file alone; a file that
 * changed too recently, or whose names cannot be written down unambiguously,
 * is not remembered.
 */
void
scan_cache_remember(ScanCache *cache, const PgebControlFileEntry *file,
					List *libraries, List *requires)
{
	ScanCacheEntry *entry;
	char	   *joined_libraries = join_names(libraries);
	char	   *joined_requires = join_names(requires);

	if (!file->read || !settled(cache, &file->identity) ||
		strpbrk(file->name, "\t\n") != NULL ||
		strpbrk(file->path, "\t\n") != NULL ||
		joined_libraries == NULL || joined_requires == NULL)
		return;

	entry = palloc0(sizeof(ScanCacheEntry));
	entry->name = file->name;
	entry->path = file->path;
	entry->identity = file->identity;
	entry->marked = (libraries != NIL);
	entry->requires = joined_requires;
	entry->libraries = joined_libraries;
	cache->fresh = lappend(cache->fresh, entry);
}

/* How many files the scan did not read. */
int
scan_cache_skipped(ScanCache *cache)
{
	return cache->skipped;
}

/*
 * Write the cache back, sorted by name, when this scan learned something or
 * remembered files went away or changed: the files it did not read, and
 * those it remembered.  Failures are not worth more than a LOG line: the
 * next start reads everything again.
 */
void
scan_cache_save(ScanCache *cache)
{
	ScanCacheEntry **kept;
	int			count = 0;
	int			i;
	ListCell   *lc;
	FILE	   *out;
	bool		failed;

	/*
	 * Nothing new and nothing gone, or a child re-running the scan
	 * (EXEC_BACKEND builds): the postmaster's scan is the one that writes.
	 * (A file never remembered, such as one with a bad marker, changes
	 * nothing.)
	 */
	if ((cache->fresh == NIL && !cache->damaged && cache->skipped == cache->count &&
		 !cache->directories_changed) ||
		IsUnderPostmaster)
		return;

	kept = palloc(sizeof(ScanCacheEntry *) * (cache->count + list_length(cache->fresh) + 1));
	for (i = 0; i < cache->count; i++)
	{
		if (cache->entries[i].unchanged)
			kept[count++] = &cache->entries[i];
	}
	foreach(lc, cache->fresh)
		kept[count++] = (ScanCacheEntry *) lfirst(lc);
	qsort(kept, count, sizeof(ScanCacheEntry *), compare_entry_pointers_by_name);

	out = AllocateFile(SCAN_CACHE_FILE ".tmp", "w");
	if (out == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", SCAN_CACHE_FILE ".tmp")));
		return;
	}
	fputs(SCAN_CACHE_HEADER, out);
	for (i = 0; i < cache->directory_count; i++)
	{
		if (cache->directories[i].unchanged)
			write_directory_line(out, &cache->directories[i]);
	}
	foreach(lc, cache->fresh_directories)
		write_directory_line(out, (ScanCacheDirectory *) lfirst(lc));
	for (i = 0; i < count; i++)
	{
		ScanCacheEntry *entry = kept[i];

		write_identity(out, &entry->identity);
		fprintf(out, "%c %s\t%s\t%s\t%s\n", entry->marked ? 'M' : 'U',
				entry->name, entry->path, entry->requires, entry->libraries);
	}

	/*
	 * A write that failed on the way (ferror) or at the end (the flush in
	 * FreeFile): the cache stays as it was, and the temporary file goes.
	 */
	failed = ferror(out) != 0;
	if (FreeFile(out) != 0)
		failed = true;
	if (failed || rename(SCAN_CACHE_FILE ".tmp", SCAN_CACHE_FILE) != 0)
	{
		int			save_errno = errno;

		(void) unlink(SCAN_CACHE_FILE ".tmp");
		errno = save_errno;
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", SCAN_CACHE_FILE)));
	}
}

/* A directory's line. */
static void
write_directory_line(FILE *out, const ScanCacheDirectory *directory)
{
	int			i;

	fputs("D ", out);
	write_identity(out, &directory->identity);
	fprintf(out, "%s\t", directory->path);
	for (i = 0; i < directory->count; i++)
		fprintf(out, "%s%s", i > 0 ? "/" : "", directory->names[i]);
	fputc('\n', out);
}

static bool
same_identity(const PgebFileIdentity *a, const PgebFileIdentity *b)
{
	return a->device == b->device && a->inode == b->inode &&
		a->size == b->size && a->mtime_ns == b->mtime_ns &&
		a->ctime_ns == b->ctime_ns;
}

/*
 * "a,b,c", or NULL when a name contains a separator of the file format (or
 * is empty), which the cache could not give back as it was.
 */
static char *
join_names(List *names)
{
	StringInfoData joined;
	ListCell   *lc;

	initStringInfo(&joined);
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);

		if (name == NULL || name[0] == '\0' || strpbrk(name, ",\t\n") != NULL)
			return NULL;
		if (joined.len > 0)
			appendStringInfoChar(&joined, ',');
		appendStringInfoString(&joined, name);
	}
	return joined.data;
}

static List *
split_names(const char *joined)
{
	List	   *names = NIL;
	const char *p = joined;

	while (*p != '\0')
	{
		const char *comma = strchr(p, ',');
		size_t		len = comma ? (size_t) (comma - p) : strlen(p);

		names = lappend(names, pnstrdup(p, len));
		p += len + (comma ? 1 : 0);
	}
	return names;
}

static int
compare_entries_by_name(const void *a, const void *b)
{
	return strcmp(((const ScanCacheEntry *) a)->name,
				  ((const ScanCacheEntry *) b)->name);
}

static int
compare_entry_pointers_by_name(const void *a, const void *b)
{
	return compare_entries_by_name(*(ScanCacheEntry *const *) a,
								   *(ScanCacheEntry *const *) b);
}

/* The wall clock in ns, the clock file modification times use. */
static int64
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64) ts.tv_sec * INT64CONST(1000000000) + ts.tv_nsec;
}
