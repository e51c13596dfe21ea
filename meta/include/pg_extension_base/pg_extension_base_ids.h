/*-------------------------------------------------------------------------
 *
 * pg_extension_base_ids.h
 *	  The extension-ids cache (extension_ids.h) of pg_extension_base itself.
 *
 * PgExtensionBase is valid in every process from the moment the meta
 * library is loaded, so it may be used without calling anything first:
 *
 *	  if (IsExtensionCreated(PgExtensionBase))
 *		  ... extension_base.* objects may be used ...
 *
 * InitializePgExtensionBaseCache() exists for code written against the
 * original pg_extension_base, which calls it from _PG_init; here it only
 * makes sure the cache is invalidated as it should be, and calling it any
 * number of times is harmless.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_PG_EXTENSION_BASE_IDS_H
#define PG_EXTENSION_BASE_PG_EXTENSION_BASE_IDS_H

#include "pg_extension_base/extension_ids.h"

/* the name of the meta-extension, as in CREATE EXTENSION */
#define PG_EXTENSION_BASE_NAME "pg_extension_base"

extern PGDLLEXPORT CachedExtensionIds *PgExtensionBase;

extern PGDLLEXPORT void InitializePgExtensionBaseCache(void);

#endif							/* PG_EXTENSION_BASE_PG_EXTENSION_BASE_IDS_H */
