/*-------------------------------------------------------------------------
 *
 * deps.h
 *	  Types shared by the files of pg_extension_base_deps.
 *
 * plan.c decides what to create and update before an extension is created
 * or updated; deps.c runs that plan from its ProcessUtility hook.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_DEPS_H
#define PG_EXTENSION_BASE_DEPS_H

#include "nodes/pg_list.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"

typedef enum DepsActionKind
{
	DEPS_CREATE,				/* CREATE EXTENSION name */
	DEPS_UPDATE					/* ALTER EXTENSION name UPDATE TO version */
} DepsActionKind;

/* One step of a plan; lives in the memory context of the statement. */
typedef struct DepsAction
{
	DepsActionKind kind;
	char	   *extname;
	char	   *version;		/* DEPS_UPDATE: the target version */
} DepsAction;

/* What a plan may do, from the settings. */
typedef struct DepsOptions
{
	bool		create_missing;
	bool		update_existing;
} DepsOptions;

/* plan.c */
extern List *deps_plan(const PgExtensionBaseApi *api, const DepsOptions *options,
					   const char *extname, const char *from_version,
					   const char *to_version);

#endif							/* PG_EXTENSION_BASE_DEPS_H */
