/*-------------------------------------------------------------------------
 *
 * extension_ids.h
 *	  A per-backend cache of what the catalog says about one extension in
 *	  the current database: whether it exists, its oid, its schema and its
 *	  owner.
 *
 * Code that runs in hooks (planner, executor, utility) often needs to know
 * cheaply whether "its" extension is installed in the current database,
 * and some oids of it.  pg_extension has no syscache on every server
 * version, so asking the catalog each time costs an index scan; this cache
 * asks once and forgets what it knew when any extension is created,
 * dropped or altered, in this backend or in another one.
 *
 * Make one cache per extension, once per process, usually in _PG_init (it
 * may run in the postmaster, while shared_preload_libraries are loaded):
 *
 *	  static CachedExtensionIds *MyExtension;
 *	  static struct { Oid helperFunctionId; } MyIds;
 *
 *	  static void
 *	  ClearMyIds(void *context)
 *	  {
 *		  memset(context, 0, sizeof(MyIds));
 *	  }
 *
 *	  MyExtension = CreateExtensionIdsCache("my_extension", ClearMyIds, &MyIds);
 *
 * and then, in a transaction:
 *
 *	  if (!IsExtensionCreated(MyExtension))
 *		  return;
 *
 * The clear function (optional) is called whenever the cache forgets, so
 * that the caller can forget the oids it derived and cached itself.  It
 * may be called at any point where invalidation messages are processed
 * (a lock being taken, a command ending): it must only reset memory, never
 * touch the catalogs or raise an error.
 *
 * The functions live in the meta library (pg_extension_base), which is
 * always preloaded.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_EXTENSION_IDS_H
#define PG_EXTENSION_BASE_EXTENSION_IDS_H

/* called, with the context given to CreateExtensionIdsCache, on every reset */
typedef void (*ClearFunction) (void *clearContext);

/* opaque: its layout belongs to the meta library */
struct CachedExtensionIdsData;
typedef struct CachedExtensionIdsData CachedExtensionIds;

/*
 * Make the cache of an extension (names longer than NAMEDATALEN - 1 bytes
 * are an error).  It lives, in TopMemoryContext, as long as the process;
 * a process that makes a cache for the same name twice gets two caches.
 */
extern PGDLLEXPORT CachedExtensionIds *CreateExtensionIdsCache(char *extensionName,
															   ClearFunction clearFn,
															   void *clearContext);

/*
 * Whether the extension exists in the current database.  False where it
 * cannot be looked up or must not be relied on: outside a transaction (or
 * in a process without a database), in binary-upgrade mode, and while one
 * of the extension's own scripts runs in this backend (of its CREATE
 * EXTENSION or ALTER EXTENSION UPDATE: its objects are not all there, or
 * not in their final shape).  A DROP EXTENSION drops the extension's
 * objects first and its pg_extension row last: true until then.
 */
extern PGDLLEXPORT bool IsExtensionCreated(CachedExtensionIds *extension);

/*
 * The oid of the extension, of its schema and of its owner.  Need a
 * transaction; an error when the extension does not exist.
 */
extern PGDLLEXPORT Oid ExtensionId(CachedExtensionIds *extension);
extern PGDLLEXPORT Oid ExtensionSchemaId(CachedExtensionIds *extension);
extern PGDLLEXPORT Oid ExtensionOwnerId(CachedExtensionIds *extension);

/* An error naming the extension unless IsExtensionCreated. */
extern PGDLLEXPORT void EnsureExtensionExists(CachedExtensionIds *extension);

#endif							/* PG_EXTENSION_BASE_EXTENSION_IDS_H */
