/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL versions pg_extension_base builds
 *	  against (15 to 18).
 *
 * Every version-specific path lives here, so that function bodies carry no
 * #if PG_VERSION_NUM.  PostgreSQL 15 is the version the test suite runs on;
 * the branches for later versions compile against their headers.
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
 * get_guc_variables() returns the length itself since PostgreSQL 16.
 * Include utils/guc_tables.h before using it.
 */
#if PG_VERSION_NUM >= 160000
#define PGEB_GUC_VARIABLES(count) get_guc_variables(count)
#else
#define PGEB_GUC_VARIABLES(count) \
	(*(count) = GetNumConfigOptions(), get_guc_variables())
#endif

/*
 * Privilege check on a database: pg_database_aclcheck() became
 * object_aclcheck() in PostgreSQL 16.
 */
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
 * The shared-library suffix; pg_config.h has defined it since PostgreSQL
 * 15, this only guards against a build that does not include it.
 */
#ifndef DLSUFFIX
#define DLSUFFIX ".so"
#endif

#endif							/* PG_EXTENSION_BASE_COMPAT_H */
