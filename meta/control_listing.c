/*-------------------------------------------------------------------------
 *
 * control_listing.c
 *	  Listing the control files of the extension directories.
 *
 * At every start the preloader needs the name and identity of every
 * control file, and with a thousand extensions installed the postmaster
 * spends most of the scan here.  This file does only that, into one array
 * per directory sorted by name; control_file.c turns the listing into
 * entries and reads what it must.
 *
 * Reading a directory (readdir(), a copy of each name, sorting them) costs
 * about as much as looking at every file in it, so a caller that remembers
 * the names a directory held (the preloader's scan cache) can give them
 * back through known_names when the directory's identity has not changed
 * since: adding, removing or renaming a file changes the directory's
 * modification and change times.  Every primary file is still looked at
 * with fstatat(), so an edit in place changes that file's identity; and if
 * a remembered file is gone, the directory is read after all.
 *
 * Runs in the postmaster during shared_preload_libraries processing (and in
 * backends); records errno values instead of reporting, so the caller
 * decides what a missing or unreadable directory means.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <sys/stat.h>

#include "storage/fd.h"

#include "meta.h"

#define CONTROL_SUFFIX		".control"
#define CONTROL_SUFFIX_LEN	(sizeof(CONTROL_SUFFIX) - 1)

static void list_one_directory(ListedDirectory *directory,
							   const PgebListingCallbacks *callbacks);
static bool list_known_names(ListedDirectory *directory, DIR *dir,
							 const char *const *names, int count);
static void read_directory(ListedDirectory *directory, DIR *dir);
static bool look_at_file(ListedFile *file, DIR *dir, const char *filename);
static void tell_listed_names(ListedDirectory *directory,
							  const PgebListingCallbacks *callbacks);
static int	compare_listed_files(const void *a, const void *b);

/* Every *.control file of the directories, in search order. */
ControlListing *
control_listing_make(List *directories, const PgebListingCallbacks *callbacks)
{
	ControlListing *listing = palloc0(sizeof(ControlListing));
	ListCell   *lc;

	listing->directories = palloc0(sizeof(ListedDirectory) * (list_length(directories) + 1));
	foreach(lc, directories)
	{
		ListedDirectory *directory = &listing->directories[listing->count++];

		directory->path = (char *) lfirst(lc);
		list_one_directory(directory, callbacks);
	}
	return listing;
}

/* The identity of a file or directory, from its stat(). */
void
pgeb_identity_from_stat(PgebFileIdentity *identity, const struct stat *st)
{
	identity->device = (uint64) st->st_dev;
	identity->inode = (uint64) st->st_ino;
	identity->size = (int64) st->st_size;
	identity->mtime_ns = PGEB_STAT_MTIME_NS(st);
	/* no one can set the change time, unlike mtime */
	identity->ctime_ns = PGEB_STAT_CTIME_NS(st);
}

/*
 * Every *.control file of one directory, sorted by name (the file name
 * without ".control"), primary files with their identity: the names the
 * caller remembers when the directory has not changed, else readdir().
 */
static void
list_one_directory(ListedDirectory *directory,
				   const PgebListingCallbacks *callbacks)
{
	DIR		   *dir = AllocateDir(directory->path);
	struct stat st;
	const char *const *known = NULL;
	int			known_count = 0;

	if (dir == NULL)
	{
		directory->open_errno = errno;
		return;
	}

	/* before reading it, so that a change made meanwhile is seen next time */
	if (fstat(dirfd(dir), &st) == 0)
		pgeb_identity_from_stat(&directory->identity, &st);

	if (callbacks != NULL && callbacks->known_names != NULL &&
		directory->identity.ctime_ns != 0)
		known = callbacks->known_names(directory->path, &directory->identity,
									   &known_count, callbacks->arg);
	if (known == NULL || !list_known_names(directory, dir, known, known_count))
		read_directory(directory, dir);
	FreeDir(dir);

	tell_listed_names(directory, callbacks);
}

/*
 * The listing from remembered names, which known_names gives sorted; false
 * when one of them is gone (the names are not what the directory holds),
 * and the directory must be read.
 */
static bool
list_known_names(ListedDirectory *directory, DIR *dir,
				 const char *const *names, int count)
{
	char		filename[MAXPGPATH];
	int			i;

	directory->files = palloc0(sizeof(ListedFile) * (count + 1));
	for (i = 0; i < count; i++)
	{
		ListedFile *file = &directory->files[i];
		size_t		len = strlen(names[i]);

		if (len + CONTROL_SUFFIX_LEN >= sizeof(filename))
			break;
		memcpy(filename, names[i], len);
		memcpy(filename + len, CONTROL_SUFFIX, CONTROL_SUFFIX_LEN + 1);
		file->name = (char *) names[i];
		if (!look_at_file(file, dir, filename))
			break;
	}
	if (i < count)
	{
		pfree(directory->files);
		directory->files = NULL;
		return false;
	}
	directory->count = count;
	ereport(DEBUG1,
			(errmsg_internal("pg_extension_base: extension directory \"%s\" is unchanged; its %d control file names were not read again",
							 directory->path, count)));
	return true;
}

/* The listing from readdir(), sorted. */
static void
read_directory(ListedDirectory *directory, DIR *dir)
{
	struct dirent *de;
	int			allocated = 256;

	rewinddir(dir);
	directory->files = palloc(sizeof(ListedFile) * allocated);
	for (;;)
	{
		ListedFile *file;
		size_t		len;

		errno = 0;
		de = readdir(dir);
		if (de == NULL)
		{
			directory->read_errno = errno;
			break;
		}
		len = strlen(de->d_name);
		if (len <= CONTROL_SUFFIX_LEN ||
			strcmp(de->d_name + len - CONTROL_SUFFIX_LEN, CONTROL_SUFFIX) != 0)
			continue;

		if (directory->count == allocated)
		{
			allocated *= 2;
			directory->files = repalloc(directory->files, sizeof(ListedFile) * allocated);
		}
		file = &directory->files[directory->count++];
		file->name = pnstrdup(de->d_name, len - CONTROL_SUFFIX_LEN);
		/* a file that vanished meanwhile is listed without identity */
		(void) look_at_file(file, dir, de->d_name);
	}

	if (directory->count > 1)
		qsort(directory->files, directory->count, sizeof(ListedFile),
			  compare_listed_files);
}

/*
 * Fill in what the listing knows of one file (name set): whether it is a
 * secondary file, and a primary file's identity.  False when the file is
 * not there.
 */
static bool
look_at_file(ListedFile *file, DIR *dir, const char *filename)
{
	struct stat st;

	memset(&file->identity, 0, sizeof(file->identity));
	file->secondary = (strstr(file->name, "--") != NULL);
	if (file->secondary)
		return true;
	if (fstatat(dirfd(dir), filename, &st, 0) != 0)
		return errno != ENOENT;
	pgeb_identity_from_stat(&file->identity, &st);
	return true;
}

/* Tell the caller what the directory holds, to remember it. */
static void
tell_listed_names(ListedDirectory *directory,
				  const PgebListingCallbacks *callbacks)
{
	const char **names;
	int			i;

	if (callbacks == NULL || callbacks->listed_names == NULL ||
		directory->read_errno != 0 || directory->identity.ctime_ns == 0)
		return;
	names = palloc(sizeof(char *) * (directory->count + 1));
	for (i = 0; i < directory->count; i++)
		names[i] = directory->files[i].name;
	callbacks->listed_names(directory->path, &directory->identity, names,
							directory->count, callbacks->arg);
	pfree(names);
}

static int
compare_listed_files(const void *a, const void *b)
{
	return strcmp(((const ListedFile *) a)->name, ((const ListedFile *) b)->name);
}
