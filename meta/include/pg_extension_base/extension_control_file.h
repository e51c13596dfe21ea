/*-------------------------------------------------------------------------
 *
 * extension_control_file.h
 *	  Where extension control files are, and what one says about an
 *	  extension's requirements.
 *
 * The same directories, in the same order, and the same parser as CREATE
 * EXTENSION: the share directory's "extension" directory, and on
 * PostgreSQL 18 every directory of extension_control_path.  Results are
 * allocated in the caller's memory context.  No transaction is needed, so
 * these work in the postmaster too.
 *
 * The functions live in the meta library (pg_extension_base), which is
 * always preloaded.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_EXTENSION_CONTROL_FILE_H
#define PG_EXTENSION_BASE_EXTENSION_CONTROL_FILE_H

#include "nodes/pg_list.h"

/* Whether a file name is that of a control file (ends in ".control"). */
extern PGDLLEXPORT bool IsExtensionControlFilename(const char *filename);

/*
 * The directories that may hold control files, in search order, as a List
 * of char * paths (each ends in "/extension").
 */
extern PGDLLEXPORT List *GetExtensionControlDirectories(void);

/*
 * The path of the primary control file (name.control) CREATE EXTENSION
 * would read for an extension: the one in the first directory that has
 * one.  NULL when no directory has one, or when extname cannot be the name
 * of an extension (empty, or with a directory separator).
 */
extern PGDLLEXPORT char *GetExtensionControlFilename(const char *extname);

/*
 * The extensions the default version of an extension requires (its
 * "requires", where the secondary control file of the default version
 * overrides the primary one, as CREATE EXTENSION reads it), as a List of
 * char * names.  NIL when the extension has no control file; an error when
 * its control file cannot be read or parsed.
 */
extern PGDLLEXPORT List *GetExtensionDependencyList(char *extensionName);

#endif							/* PG_EXTENSION_BASE_EXTENSION_CONTROL_FILE_H */
