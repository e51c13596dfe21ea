/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL versions pg_extension_base builds
 *	  against (15 to 18), and between platforms.
 *
 * Every version-specific path lives here, so that function bodies carry no
 * #if PG_VERSION_NUM.  The test suite runs on PostgreSQL 15, 17 and 18
 * (scripts/test --pg N); 16 is covered by the branches 17 shares with it.
 *
 * Private to the five libraries (Makefile.common puts meta/private on their
 * include path) and never installed: the public headers do not need it, and
 * what it defines (the visibility declarations of our build, our module
 * magic, our wait events) is no API for other extensions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_COMPAT_H
#define PG_EXTENSION_BASE_COMPAT_H

#include "fmgr.h"

#if PG_VERSION_NUM < 150000
#error "pg_extension_base requires PostgreSQL 15 or later"
#endif

/*
 * Hidden symbol visibility.  PostgreSQL 16 builds extension libraries with
 * -fvisibility=hidden and declares _PG_init and every PG_FUNCTION_INFO_V1
 * function PGDLLEXPORT.  Makefile.common hides symbols on 15 too (and makes
 * PGDLLEXPORT mean default visibility there); these declarations do what
 * 16's fmgr.h does, so the server still finds our entry points.
 */
#if PG_VERSION_NUM < 160000
extern PGDLLEXPORT void _PG_init(void);

#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record *CppConcat(pg_finfo_,funcname)(void); \
const Pg_finfo_record * \
CppConcat(pg_finfo_,funcname) (void) \
{ \
	static const Pg_finfo_record finfo = {1}; \
	return &finfo; \
} \
extern int no_such_variable
#endif

/*
 * PG_MODULE_MAGIC_EXT (PostgreSQL 18) lets a library report its name and
 * version; earlier servers only have the plain magic block.
 */
#if PG_VERSION_NUM >= 180000
#define PGEB_MODULE_MAGIC(libname) \
	PG_MODULE_MAGIC_EXT(.name = (libname), .version = PGEB_LIBRARY_VERSION)
#else
#define PGEB_MODULE_MAGIC(libname) PG_MODULE_MAGIC
#endif

/*
 * Where extension control files live.  PostgreSQL 18 searches
 * extension_control_path: a colon-separated list of share directories whose
 * "extension" subdirectory holds control files, where "$system" stands for
 * the compiled-in share directory.  Earlier versions have only the latter.
 * PGEB_EXTENSION_CONTROL_PATH is the setting to split, or NULL.
 */
#if PG_VERSION_NUM >= 180000
#include "commands/extension.h"
#define PGEB_EXTENSION_CONTROL_PATH Extension_control_path
#else
#define PGEB_EXTENSION_CONTROL_PATH ((const char *) NULL)
#endif

/*
 * All settings, as an array of config_generic pointers with its length:
 * get_guc_variables() returns the length itself since PostgreSQL 16, in a
 * new array palloc'd in the current memory context, which the caller
 * gives back with PGEB_GUC_VARIABLES_FREE (a process that lives long, such
 * as a warm attached worker, would otherwise keep one per call); before
 * 16 the array is core's own and must not be freed.  Include
 * utils/guc_tables.h before using them.
 */
#if PG_VERSION_NUM >= 160000
#define PGEB_GUC_VARIABLES(count) get_guc_variables(count)
#define PGEB_GUC_VARIABLES_FREE(settings) pfree(settings)
#else
#define PGEB_GUC_VARIABLES(count) \
	(*(count) = GetNumConfigOptions(), get_guc_variables())
#define PGEB_GUC_VARIABLES_FREE(settings) ((void) (settings))
#endif

/*
 * Privilege check on a database: pg_database_aclcheck() became
 * object_aclcheck() in PostgreSQL 16.
 */
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "utils/acl.h"
#endif

#if PG_VERSION_NUM >= 160000
#define PGEB_DATABASE_ACLCHECK(dbid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, (dbid), (roleid), (mode))
#else
#define PGEB_DATABASE_ACLCHECK(dbid, roleid, mode) \
	pg_database_aclcheck((dbid), (roleid), (mode))
#endif

/*
 * Ownership of an extension: pg_extension_ownercheck() became
 * object_ownercheck() in PostgreSQL 16.
 */
#if PG_VERSION_NUM >= 160000
#define PGEB_EXTENSION_OWNERCHECK(extoid, roleid) \
	object_ownercheck(ExtensionRelationId, (extoid), (roleid))
#else
#define PGEB_EXTENSION_OWNERCHECK(extoid, roleid) \
	pg_extension_ownercheck((extoid), (roleid))
#endif

/* Ownership of a database, likewise. */
#if PG_VERSION_NUM >= 160000
#define PGEB_DATABASE_OWNERCHECK(dbid, roleid) \
	object_ownercheck(DatabaseRelationId, (dbid), (roleid))
#else
#define PGEB_DATABASE_OWNERCHECK(dbid, roleid) \
	pg_database_ownercheck((dbid), (roleid))
#endif

/* PortalRun lost its run_once argument in PostgreSQL 18. */
#if PG_VERSION_NUM >= 180000
#define PGEB_PORTAL_RUN(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun((portal), (count), (isTopLevel), (dest), (altdest), (qc))
#else
#define PGEB_PORTAL_RUN(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun((portal), (count), (isTopLevel), true, (dest), (altdest), (qc))
#endif

/*
 * Wait events.  PostgreSQL 17 lets an extension name its own waits
 * (WaitEventExtensionNew); pg_stat_activity then shows that name as
 * wait_event, of type Extension.  Earlier versions show every extension
 * wait as "Extension".  pgeb_wait_event() returns the event for a name,
 * asking shared memory once per process (cache: a static of the caller,
 * zero at first).  It takes a lightweight lock the first time: call it
 * outside critical sections, in a process attached to shared memory.
 */
#if PG_VERSION_NUM >= 170000
#include "utils/wait_event.h"
static inline uint32
pgeb_wait_event(uint32 *cache, const char *name)
{
	if (*cache == 0)
		*cache = WaitEventExtensionNew(name);
	return *cache;
}
#else
#include "pgstat.h"
static inline uint32
pgeb_wait_event(uint32 *cache, const char *name)
{
	return PG_WAIT_EXTENSION;
}
#endif

/*
 * Flags for an attached worker's connection.  PostgreSQL 17 lets a
 * background worker connect as a role that may not log in
 * (BGWORKER_BYPASS_ROLELOGINCHECK): the caller is already connected, so a
 * role whose LOGIN was taken away since still gets its attached worker.
 * Earlier versions check LOGIN as for a new connection.
 */
#if PG_VERSION_NUM >= 170000
#define PGEB_ATTACHED_CONNECTION_FLAGS BGWORKER_BYPASS_ROLELOGINCHECK
#else
#define PGEB_ATTACHED_CONNECTION_FLAGS 0
#endif

/*
 * A function that does not return: PostgreSQL 18 replaced the trailing
 * pg_attribute_noreturn() with pg_noreturn, which goes before the
 * declaration (C11 _Noreturn).  GCC and clang also take the attribute
 * there, so earlier versions spell it as the attribute.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * Nanosecond times of a struct stat.  POSIX.1-2008 names them st_mtim and
 * st_ctim (Linux, the BSDs); macOS calls them st_mtimespec and
 * st_ctimespec.  PGEB_STAT_MTIME_NS(st) and PGEB_STAT_CTIME_NS(st) give the
 * modification and change times of *st in nanoseconds since the epoch, as
 * int64.  Include <sys/stat.h> before using them.
 */
#ifdef __APPLE__
#define PGEB_STAT_MTIM(st) ((st)->st_mtimespec)
#define PGEB_STAT_CTIM(st) ((st)->st_ctimespec)
#else
#define PGEB_STAT_MTIM(st) ((st)->st_mtim)
#define PGEB_STAT_CTIM(st) ((st)->st_ctim)
#endif
#define PGEB_TIMESPEC_NS(ts) \
	((int64) (ts).tv_sec * INT64CONST(1000000000) + (int64) (ts).tv_nsec)
#define PGEB_STAT_MTIME_NS(st) PGEB_TIMESPEC_NS(PGEB_STAT_MTIM(st))
#define PGEB_STAT_CTIME_NS(st) PGEB_TIMESPEC_NS(PGEB_STAT_CTIM(st))

/*
 * The shared-library suffix; pg_config.h has defined it since PostgreSQL
 * 15, this only guards against a build that does not include it.
 */
#ifndef DLSUFFIX
#define DLSUFFIX ".so"
#endif

#endif							/* PG_EXTENSION_BASE_COMPAT_H */
