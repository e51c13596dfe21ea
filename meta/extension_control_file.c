/*-------------------------------------------------------------------------
 *
 * extension_control_file.c
 *	  The control-file functions of extension_control_file.h, for other
 *	  extensions.
 *
 * Thin: where control files are and how they are read is control_file.c's
 * business (the preloader and the dependency hook use the same code), so
 * other extensions see the directories and requirements we act on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "pg_extension_base/extension_control_file.h"
#include "meta.h"

#define CONTROL_SUFFIX ".control"

/*
 * As core decides it (is_extension_control_filename): whatever ends in
 * ".control", secondary control files (name--version.control) included.
 */
bool
IsExtensionControlFilename(const char *filename)
{
	const char *suffix = strrchr(filename, '.');

	return suffix != NULL && strcmp(suffix, CONTROL_SUFFIX) == 0;
}

List *
GetExtensionControlDirectories(void)
{
	return pgeb_control_directories();
}

/*
 * The first directory that holds name.control wins, as in CREATE
 * EXTENSION.  A name with a directory separator would make us look
 * outside the extension directories; core refuses such names, and there
 * is no such extension.
 */
char *
GetExtensionControlFilename(const char *extname)
{
	ListCell   *lc;

	if (extname == NULL || extname[0] == '\0' ||
		first_dir_separator(extname) != NULL)
		return NULL;

	foreach(lc, pgeb_control_directories())
	{
		char	   *path = psprintf("%s/%s" CONTROL_SUFFIX,
									(char *) lfirst(lc), extname);
		struct stat st;

		if (stat(path, &st) == 0)
			return path;
		pfree(path);
	}
	return NULL;
}

/*
 * The requirements of the default version, from the primary control file
 * overlaid with the secondary one of that version, as core reads them.
 */
List *
GetExtensionDependencyList(char *extensionName)
{
	PgebControlFile *control;

	if (GetExtensionControlFilename(extensionName) == NULL)
		return NIL;

	control = pgeb_read_control_file(extensionName, NULL, ERROR);
	return control->requires;
}
