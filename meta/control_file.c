/*-------------------------------------------------------------------------
 *
 * control_file.c
 *	  Finding and reading extension control files.
 *
 * This is the one place in pg_extension_base that knows where control files
 * live and how they are parsed.  The preloader (which scans them at
 * postmaster start) and the dependency hook (which reads the requirements of
 * a target version) reach it through the meta library's function table.
 *
 * Parsing uses the same parser as core's extension.c (ParseConfigFp, the
 * postgresql.conf grammar) and applies the same rules for the script
 * directory (the "directory" parameter) and for per-version secondary
 * control files (name--version.control in the script directory, overriding
 * the primary file), so we read what CREATE EXTENSION reads.
 *
 * Runs in the postmaster during shared_preload_libraries processing as well
 * as in backends: it takes no locks and reports problems at the caller's
 * elevel instead of throwing, so a broken control file cannot stop the
 * server unless the caller wants it to.
 *
 * The postmaster scans every control file at every start, possibly
 * thousands, and that time is added to the server's start-up: the scan reads
 * each file at most once (open, one read, close), keeps its text, and learns
 * from the same directory listing which per-version control files exist, so
 * that parsing what it needs costs no more I/O.  A caller that knows from a
 * file's identity that it need not read it (the preloader's scan cache)
 * saves even that.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/varlena.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"
#include "meta.h"

/* A slot of the hash of names already listed (several directories only). */
typedef struct EntryByName
{
	char		name[NAMEDATALEN];
} EntryByName;

static void read_entry(PgebControlFileEntry *entry);
static char *read_whole_file(const char *path, int *read_errno);
static bool parse_control_file_into(PgebControlFile *control, const char *path,
									bool primary, int elevel);
static bool parse_control_into(PgebControlFile *control, const char *path,
							   FILE *file, bool primary, int elevel);
static PgebControlFile *overlay_secondary(PgebControlFile *control,
										  const char *version, int elevel);
static int	compare_entries_by_name(const ListCell *a, const ListCell *b);
static int	compare_name_to_entry(const void *name, const void *entry);

/*
 * The directories that hold control files, in search order: the share
 * directory's "extension" subdirectory, or on PostgreSQL 18+ each element of
 * extension_control_path.
 */
List *
pgeb_control_directories(void)
{
	char		sharepath[MAXPGPATH];
	const char *setting = PGEB_EXTENSION_CONTROL_PATH;
	List	   *result = NIL;
	char	   *rawpath;
	List	   *elements;
	ListCell   *lc;

	get_share_path(my_exec_path, sharepath);

	if (setting == NULL || setting[0] == '\0')
		return list_make1(psprintf("%s/extension", sharepath));

	rawpath = pstrdup(setting);
	if (!SplitDirectoriesString(rawpath, ':', &elements))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"extension_control_path\""),
				 errdetail("Control files are looked for in the system extension directory only.")));
		return list_make1(psprintf("%s/extension", sharepath));
	}

	/* as core: "$system" is the compiled-in share directory */
	foreach(lc, elements)
	{
		char	   *element = (char *) lfirst(lc);

		result = lappend(result, psprintf("%s/extension",
										  strcmp(element, "$system") == 0 ?
										  sharepath : element));
	}
	return result;
}

/*
 * Every primary control file (name.control), sorted by extension name, with
 * its identity, its text and the versions that have a secondary control
 * file (name--version.control) beside it.  When two directories hold the
 * same extension, the first directory wins, as in CREATE EXTENSION.  A file
 * that cannot be read is listed with text NULL and read_errno set.
 *
 * The directories are listed by control_listing.c, with the names the
 * callbacks remember when a directory has not changed; the files that
 * skip_read accepts from their identity are not read (read stays false).
 * Entries, names and paths are allocated in bulk: this runs at every start,
 * on every control file.
 */
List *
pgeb_list_control_files(const PgebListingCallbacks *callbacks)
{
	ControlListing *listing = control_listing_make(pgeb_control_directories(),
												   callbacks);
	List	   *result = NIL;
	HTAB	   *by_name = NULL;
	int			i;
	int			j;
	ListCell   *lc;

	/* only several directories can hold the same name twice */
	if (listing->count > 1)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(EntryByName);
		ctl.hcxt = CurrentMemoryContext;
		by_name = hash_create("pg_extension_base control files", 1024, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}

	for (i = 0; i < listing->count; i++)
	{
		ListedDirectory *directory = &listing->directories[i];
		char	   *dirname = directory->path;
		size_t		dirlen = strlen(dirname);
		PgebControlFileEntry *entries;
		int			count = 0;

		/* a missing directory in a search path is not worth a word */
		errno = directory->open_errno;
		if (errno != 0 && errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not open extension directory \"%s\": %m",
							dirname)));
		errno = directory->read_errno;
		if (errno != 0)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not read extension directory \"%s\": %m",
							dirname)));

		entries = palloc0(sizeof(PgebControlFileEntry) * (directory->count + 1));
		for (j = 0; j < directory->count; j++)
		{
			ListedFile *file = &directory->files[j];
			size_t		len = strlen(file->name);
			PgebControlFileEntry *entry;
			char	   *name_and_path;

			/* no extension can have a longer name */
			if (file->secondary || len >= NAMEDATALEN)
				continue;
			if (by_name != NULL)
			{
				bool		found;

				(void) hash_search(by_name, file->name, HASH_ENTER, &found);
				if (found)
					continue;	/* an earlier directory has it */
			}

			/* "name\0directory/name.control\0" in one allocation */
			name_and_path = palloc(len + 1 + dirlen + 1 + len + sizeof(".control"));
			memcpy(name_and_path, file->name, len + 1);
			entry = &entries[count++];
			entry->name = name_and_path;
			entry->path = name_and_path + len + 1;
			memcpy(entry->path, dirname, dirlen);
			entry->path[dirlen] = '/';
			memcpy(entry->path + dirlen + 1, file->name, len);
			memcpy(entry->path + dirlen + 1 + len, ".control", sizeof(".control"));
			entry->directory = dirname;
			entry->identity = file->identity;
			result = lappend(result, entry);
		}

		/* attach the secondary control files to their primary ones */
		for (j = 0; j < directory->count; j++)
		{
			ListedFile *file = &directory->files[j];
			char	   *separator = strstr(file->name, "--");
			char		primary_name[NAMEDATALEN];
			PgebControlFileEntry *primary;

			/* the listed names may be the caller's: not cut in place */
			if (!file->secondary || separator - file->name >= NAMEDATALEN)
				continue;
			memcpy(primary_name, file->name, separator - file->name);
			primary_name[separator - file->name] = '\0';
			primary = bsearch(primary_name, entries, count,
							  sizeof(PgebControlFileEntry), compare_name_to_entry);
			if (primary != NULL)
				primary->secondary_versions =
					lappend(primary->secondary_versions, pstrdup(separator + 2));
		}
	}
	if (by_name != NULL)
	{
		hash_destroy(by_name);
		list_sort(result, compare_entries_by_name);
	}

	/* read what the skip test does not know, in name order */
	foreach(lc, result)
	{
		PgebControlFileEntry *entry = (PgebControlFileEntry *) lfirst(lc);

		if (callbacks == NULL || callbacks->skip_read == NULL ||
			!callbacks->skip_read(entry, callbacks->arg))
			read_entry(entry);
	}
	return result;
}

static void
read_entry(PgebControlFileEntry *entry)
{
	entry->text = read_whole_file(entry->path, &entry->read_errno);
	entry->read = true;
}

/*
 * The contents of a file, NUL-terminated, read into a reused buffer (control
 * files are small: usually one read, then the one that says end of file).
 * NULL with *read_errno set when it cannot be read.
 */
static char *
read_whole_file(const char *path, int *read_errno)
{
	static char buffer[8192];
	StringInfoData contents;
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);

	if (fd < 0)
	{
		*read_errno = errno;
		return NULL;
	}

	initStringInfo(&contents);
	for (;;)
	{
		ssize_t		n = read(fd, buffer, sizeof(buffer));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			*read_errno = errno;
			CloseTransientFile(fd);
			pfree(contents.data);
			return NULL;
		}
		if (n == 0)
			break;
		appendBinaryStringInfo(&contents, buffer, n);
	}
	CloseTransientFile(fd);
	return contents.data;
}

/*
 * Parse a control file listed by pgeb_list_control_files() from the text
 * read then, overlaid with the secondary control file of its default
 * version when the listing saw one.
 */
PgebControlFile *
pgeb_parse_control_entry(PgebControlFileEntry *entry, int elevel)
{
	PgebControlFile *control = palloc0(sizeof(PgebControlFile));
	FILE	   *text;
	bool		ok;
	ListCell   *lc;

	if (!entry->read)
		read_entry(entry);
	if (entry->text == NULL)
	{
		errno = entry->read_errno;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not read extension control file \"%s\": %m",
						entry->path)));
		return NULL;
	}

	control->name = entry->name;
	control->path = entry->path;
	control->directory = entry->directory;
	control->superuser = true;	/* core's default */

	/* an empty file sets nothing (and fmemopen may refuse size 0) */
	if (entry->text[0] != '\0')
	{
		text = fmemopen(entry->text, strlen(entry->text), "r");
		if (text == NULL)
		{
			ereport(elevel,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not parse extension control file \"%s\": %m",
							entry->path)));
			return NULL;
		}
		ok = parse_control_into(control, entry->path, text, true, elevel);
		fclose(text);
		if (!ok)
			return NULL;
	}
	else
		control->script_directory = control->directory;
	if (control->default_version == NULL)
		return control;

	/*
	 * The secondary control file of the default version lives in the script
	 * directory, as in core: when that is the control file's directory, the
	 * listing says whether it exists, without a system call.
	 */
	if (strcmp(control->script_directory, control->directory) == 0)
	{
		foreach(lc, entry->secondary_versions)
		{
			if (strcmp((char *) lfirst(lc), control->default_version) == 0)
				return overlay_secondary(control, control->default_version, elevel);
		}
		return control;
	}
	return overlay_secondary(control, control->default_version, elevel);
}

/*
 * Overlay the secondary control file of a version, if it exists, on what
 * the primary control file said.  NULL after reporting at elevel when it
 * cannot be parsed.
 */
static PgebControlFile *
overlay_secondary(PgebControlFile *control, const char *version, int elevel)
{
	char	   *path = psprintf("%s/%s--%s.control", control->script_directory,
								control->name, version);
	struct stat st;

	if (stat(path, &st) != 0)
		return control;
	if (!parse_control_file_into(control, path, false, elevel))
		return NULL;
	return control;
}

static int
compare_entries_by_name(const ListCell *a, const ListCell *b)
{
	return strcmp(((PgebControlFileEntry *) lfirst(a))->name,
				  ((PgebControlFileEntry *) lfirst(b))->name);
}

static int
compare_name_to_entry(const void *name, const void *entry)
{
	return strcmp((const char *) name, ((const PgebControlFileEntry *) entry)->name);
}

/*
 * Read an extension's control file: the primary file, then the secondary
 * file of the requested version (or of the default version) if there is one.
 */
PgebControlFile *
pgeb_read_control_file(const char *extname, const char *version, int elevel)
{
	List	   *directories = pgeb_control_directories();
	PgebControlFile *control = NULL;
	ListCell   *lc;
	char	   *path = NULL;
	struct stat st;

	foreach(lc, directories)
	{
		char	   *candidate = psprintf("%s/%s.control",
										 (char *) lfirst(lc), extname);

		if (stat(candidate, &st) == 0)
		{
			path = candidate;
			control = palloc0(sizeof(PgebControlFile));
			control->directory = pstrdup((char *) lfirst(lc));
			break;
		}
		pfree(candidate);
	}

	if (control == NULL)
	{
		ereport(elevel,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("extension \"%s\" is not available", extname),
				 errdetail("Could not find a control file \"%s.control\" in the extension directories.",
						   extname)));
		return NULL;
	}

	control->name = pstrdup(extname);
	control->path = path;
	control->superuser = true;	/* core's default */
	if (!parse_control_file_into(control, path, true, elevel))
		return NULL;

	if (version == NULL)
		version = control->default_version;
	if (version == NULL)
		return control;
	return overlay_secondary(control, version, elevel);
}

/*
 * Parse one control file into control, overriding what an earlier file set.
 * Unknown parameters are left to core, which checks them at CREATE EXTENSION.
 */
static bool
parse_control_file_into(PgebControlFile *control, const char *path,
						bool primary, int elevel)
{
	FILE	   *file;
	bool		ok;

	file = AllocateFile(path, "r");
	if (file == NULL)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not open extension control file \"%s\": %m", path)));
		return false;
	}
	ok = parse_control_into(control, path, file, primary, elevel);
	FreeFile(file);
	return ok;
}

/* Parse control-file text from an open stream into control. */
static bool
parse_control_into(PgebControlFile *control, const char *path, FILE *file,
				   bool primary, int elevel)
{
	ConfigVariable *head = NULL;
	ConfigVariable *tail = NULL;
	ConfigVariable *item;

	if (!ParseConfigFp(file, path, 0, elevel, &head, &tail))
	{
		FreeConfigVariables(head);
		return false;
	}

	for (item = head; item != NULL; item = item->next)
	{
		if (strcmp(item->name, "default_version") == 0 && primary)
			control->default_version = pstrdup(item->value);
		else if (strcmp(item->name, "module_pathname") == 0)
			control->module_pathname = pstrdup(item->value);
		else if (strcmp(item->name, "directory") == 0 && primary)
		{
			/*
			 * Absolute, or relative to the share directory the control file
			 * was found in, as core does (on PostgreSQL 18 that may be an
			 * element of extension_control_path): the parent of the
			 * control file's "extension" directory.
			 */
			char	   *base = pstrdup(control->directory);

			get_parent_directory(base);
			control->script_directory = is_absolute_path(item->value) ?
				pstrdup(item->value) :
				psprintf("%s/%s", base, item->value);
		}
		else if (strcmp(item->name, "superuser") == 0)
			(void) parse_bool(item->value, &control->superuser);
		else if (strcmp(item->name, "trusted") == 0)
			(void) parse_bool(item->value, &control->trusted);
		else if (strcmp(item->name, "requires") == 0)
		{
			char	   *rawnames = pstrdup(item->value);

			if (!SplitIdentifierString(rawnames, ',', &control->requires))
			{
				ereport(elevel,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("parameter \"requires\" must be a list of extension names in file \"%s\"",
								path)));
				FreeConfigVariables(head);
				return false;
			}
		}
	}

	/* as core: scripts sit beside the control file unless it says where */
	if (primary && control->script_directory == NULL)
		control->script_directory = control->directory;

	FreeConfigVariables(head);
	return true;
}
