/*-------------------------------------------------------------------------
 *
 * control_listing.c
 *	  Listing the control files of the extension directories.
 *
 * At every start the preloader needs the name and identity of every
 * control file, and with a thousand extensions installed the postmaster
 * spends most of the scan here: one readdir() pass and one fstatat() per
 * primary control file.  This file does only that, into one array per
 * directory sorted by name, without per-file allocations beyond the name;
 * control_file.c turns the listing into entries and reads what it must.
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

static void list_one_directory(ListedDirectory *directory);
static int	compare_listed_files(const void *a, const void *b);

/* Every *.control file of the directories, in search order. */
ControlListing *
control_listing_make(List *directories)
{
	ControlListing *listing = palloc0(sizeof(ControlListing));
	ListCell   *lc;

	listing->directories = palloc0(sizeof(ListedDirectory) * (list_length(directories) + 1));
	foreach(lc, directories)
	{
		ListedDirectory *directory = &listing->directories[listing->count++];

		directory->path = (char *) lfirst(lc);
		list_one_directory(directory);
	}
	return listing;
}

/*
 * Every *.control file of one directory, sorted by name (the file name
 * without ".control"), primary files with their identity.
 */
static void
list_one_directory(ListedDirectory *directory)
{
	DIR		   *dir = AllocateDir(directory->path);
	struct dirent *de;
	int			allocated = 256;

	if (dir == NULL)
	{
		directory->open_errno = errno;
		return;
	}

	directory->files = palloc(sizeof(ListedFile) * allocated);
	for (;;)
	{
		ListedFile *file;
		size_t		len;
		struct stat st;

		errno = 0;
		de = readdir(dir);
		if (de == NULL)
		{
			directory->read_errno = errno;
			break;
		}
		len = strlen(de->d_name);
		if (len <= 8 || strcmp(de->d_name + len - 8, ".control") != 0)
			continue;

		if (directory->count == allocated)
		{
			allocated *= 2;
			directory->files = repalloc(directory->files, sizeof(ListedFile) * allocated);
		}
		file = &directory->files[directory->count++];
		memset(file, 0, sizeof(ListedFile));
		file->name = pnstrdup(de->d_name, len - 8);
		file->secondary = (strstr(file->name, "--") != NULL);
		if (!file->secondary && fstatat(dirfd(dir), de->d_name, &st, 0) == 0)
		{
			file->identity.device = (uint64) st.st_dev;
			file->identity.inode = (uint64) st.st_ino;
			file->identity.size = (int64) st.st_size;
			file->identity.mtime_ns = (int64) st.st_mtim.tv_sec * INT64CONST(1000000000) +
				st.st_mtim.tv_nsec;
			/* no one can set the change time, unlike mtime */
			file->identity.ctime_ns = (int64) st.st_ctim.tv_sec * INT64CONST(1000000000) +
				st.st_ctim.tv_nsec;
		}
	}
	FreeDir(dir);

	if (directory->count > 1)
		qsort(directory->files, directory->count, sizeof(ListedFile),
			  compare_listed_files);
}

static int
compare_listed_files(const void *a, const void *b)
{
	return strcmp(((const ListedFile *) a)->name, ((const ListedFile *) b)->name);
}
