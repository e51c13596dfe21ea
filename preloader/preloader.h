/*-------------------------------------------------------------------------
 *
 * preloader.h
 *	  Types and functions shared by the files of pg_extension_base_preloader.
 *
 * The preloader runs once, in the postmaster: marker.c finds the control
 * files that ask for preloading (scan_cache.c spares it, and load_order.c,
 * the files that have not changed since the last start), load_order.c puts
 * their libraries in a deterministic, dependency-aware order, preloader.c
 * loads them and keeps the result for list_preload_libraries().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_PRELOADER_H
#define PG_EXTENSION_BASE_PRELOADER_H

#include "nodes/pg_list.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"

#define PRELOAD_MARKER "#!shared_preload_libraries"

/* Longest marker line we accept, in bytes (without the newline). */
#define PRELOAD_MARKER_MAX_LINE 4096

/*
 * A control file that asks for preloading.  Built in a temporary memory
 * context of the postmaster while it scans control files.
 */
typedef struct PreloadRequest
{
	PgebControlFileEntry *entry;	/* the control file, as scanned */

	/*
	 * Library names as written, in marker order; NULL stands for the
	 * extension's own library (module_pathname, or else its name), which a
	 * bare marker asks for.
	 */
	List	   *libraries;
	bool		warned;			/* reading the markers logged a WARNING */

	/* set by load_order.c, or from the scan cache with libraries resolved */
	List	   *requires;		/* names from the control file */
	bool		resolved;		/* libraries and requires are final */

	/*
	 * Resolved from this file alone (scan_cache_file_alone), so the scan
	 * cache may remember the result.
	 */
	bool		cacheable;
} PreloadRequest;

/*
 * One library in load order.  Allocated in TopMemoryContext by the
 * postmaster, inherited by every child; never changed after startup.
 */
typedef struct PreloadedLibrary
{
	char	   *extension_name;
	char	   *library_name;
	char	   *control_path;
	int			load_position;
	bool		loaded;
	char	   *error;			/* why it did not load, or NULL */
} PreloadedLibrary;

/* scan_cache.c */
typedef struct ScanCache ScanCache;
extern ScanCache *scan_cache_load(void);
extern const PgebListingCallbacks *scan_cache_listing_callbacks(ScanCache *cache);
extern bool scan_cache_file_alone(const PgebControlFileEntry *file,
								  const PgebControlFile *control);
extern bool scan_cache_facts(ScanCache *cache, const PgebControlFileEntry *file,
							 bool *marked, List **libraries, List **requires);
extern void scan_cache_remember(ScanCache *cache, const PgebControlFileEntry *file,
								List *libraries, List *requires);
extern int	scan_cache_skipped(ScanCache *cache);
extern void scan_cache_save(ScanCache *cache);

/* marker.c */
extern PreloadRequest *preload_read_markers(PgebControlFileEntry *entry);

/* load_order.c */
extern List *preload_order_libraries(const PgExtensionBaseApi *api,
									 ScanCache *cache, List *requests,
									 List *entries);

#endif							/* PG_EXTENSION_BASE_PRELOADER_H */
