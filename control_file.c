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
 * postgresql.conf grammar) and applies the same rule for per-version
 * secondary control files (name--version.control overriding the primary
 * file), so we read what CREATE EXTENSION reads.
 *
 * Runs in the postmaster during shared_preload_libraries processing as well
 * as in backends: it takes no locks and reports problems at the caller's
 * elevel instead of throwing, so a broken control file cannot stop the
 * server unless the caller wants it to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_extension.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"
#include "meta.h"

static List *control_directories(void);
static bool parse_control_file_into(PgebControlFile *control, const char *path,
									bool primary, int elevel);
static int	compare_entries_by_name(const ListCell *a, const ListCell *b);

/*
 * The directories that hold control files, in search order: the share
 * directory's "extension" subdirectory, or on PostgreSQL 18+ each element of
 * extension_control_path.
 */
static List *
control_directories(void)
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
				 errmsg("could not parse extension_control_path; using only the system extension directory")));
		return list_make1(psprintf("%s/extension", sharepath));
	}

	foreach(lc, elements)
	{
		char	   *element = (char *) lfirst(lc);

		if (strcmp(element, "$system") == 0)
			result = lappend(result, psprintf("%s/extension", sharepath));
		else if (strncmp(element, "$system/", 8) == 0)
			result = lappend(result, psprintf("%s/%s/extension", sharepath,
											  element + 8));
		else
			result = lappend(result, psprintf("%s/extension", element));
	}
	return result;
}

/*
 * Every primary control file (name.control, not name--version.control),
 * sorted by extension name.  When two directories hold the same extension,
 * the first directory wins, as in CREATE EXTENSION.  Runs in the postmaster
 * at every start, over possibly thousands of files: one pass per directory,
 * and a hash for the names seen only when there is more than one directory.
 */
List *
pgeb_list_control_files(void)
{
	List	   *result = NIL;
	List	   *directories = control_directories();
	HTAB	   *seen = NULL;
	ListCell   *lc;

	if (list_length(directories) > 1)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = NAMEDATALEN;
		ctl.hcxt = CurrentMemoryContext;
		seen = hash_create("pg_extension_base control files", 256, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}

	foreach(lc, directories)
	{
		const char *dirname = (const char *) lfirst(lc);
		DIR		   *dir;
		struct dirent *de;

		dir = AllocateDir(dirname);
		if (dir == NULL)
		{
			/* a missing directory in a search path is not worth a word */
			if (errno != ENOENT)
				ereport(WARNING,
						(errcode_for_file_access(),
						 errmsg("could not open extension directory \"%s\": %m",
								dirname)));
			continue;
		}

		while ((de = ReadDirExtended(dir, dirname, WARNING)) != NULL)
		{
			size_t		len = strlen(de->d_name);
			PgebControlFileEntry *entry;
			char	   *name;
			bool		found = false;

			if (len <= 8 || strcmp(de->d_name + len - 8, ".control") != 0)
				continue;
			name = pnstrdup(de->d_name, len - 8);
			if (strstr(name, "--") != NULL || strlen(name) >= NAMEDATALEN)
				continue;		/* per-version control file, or no valid name */

			if (seen != NULL)
				(void) hash_search(seen, name, HASH_ENTER, &found);
			if (found)
				continue;		/* an earlier directory has it */

			entry = palloc(sizeof(PgebControlFileEntry));
			entry->name = name;
			entry->path = psprintf("%s/%s", dirname, de->d_name);
			result = lappend(result, entry);
		}
		FreeDir(dir);
	}

	if (seen != NULL)
		hash_destroy(seen);
	list_sort(result, compare_entries_by_name);
	return result;
}

static int
compare_entries_by_name(const ListCell *a, const ListCell *b)
{
	return strcmp(((PgebControlFileEntry *) lfirst(a))->name,
				  ((PgebControlFileEntry *) lfirst(b))->name);
}

/*
 * Read an extension's control file: the primary file, then the secondary
 * file of the requested version (or of the default version) if there is one.
 */
PgebControlFile *
pgeb_read_control_file(const char *extname, const char *version, int elevel)
{
	List	   *directories = control_directories();
	PgebControlFile *control = NULL;
	ListCell   *lc;
	char	   *path = NULL;
	char	   *secondary;
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
	if (control->script_directory == NULL)
		control->script_directory = control->directory;

	if (version == NULL)
		version = control->default_version;
	if (version == NULL)
		return control;

	secondary = psprintf("%s/%s--%s.control", control->directory, extname, version);
	if (stat(secondary, &st) == 0 &&
		!parse_control_file_into(control, secondary, false, elevel))
		return NULL;

	return control;
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
	ConfigVariable *head = NULL;
	ConfigVariable *tail = NULL;
	ConfigVariable *item;
	bool		ok;

	file = AllocateFile(path, "r");
	if (file == NULL)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not open extension control file \"%s\": %m", path)));
		return false;
	}

	ok = ParseConfigFp(file, path, 0, elevel, &head, &tail);
	FreeFile(file);
	if (!ok)
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
			char		sharepath[MAXPGPATH];

			/* absolute, or relative to the share directory, as in core */
			get_share_path(my_exec_path, sharepath);
			control->script_directory = is_absolute_path(item->value) ?
				pstrdup(item->value) :
				psprintf("%s/%s", sharepath, item->value);
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

	FreeConfigVariables(head);
	return true;
}

/*
 * The version of an extension installed in the current database, or NULL.
 * Needs a transaction; not for the postmaster.
 */
char *
pgeb_installed_extension_version(const char *extname)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *result = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		version = heap_getattr(tuple, Anum_pg_extension_extversion,
										   RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(version));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	return result;
}
