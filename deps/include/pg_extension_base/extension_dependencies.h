/*-------------------------------------------------------------------------
 *
 * extension_dependencies.h
 *	  The settings of the dependency hook, for other extensions.
 *
 * pg_extension_base_deps (preloaded by pg_extension_base, before any other
 * library) creates the missing requirements of an extension and updates
 * the installed ones before CREATE EXTENSION and ALTER EXTENSION ...
 * UPDATE.  These are the variables behind its two settings, and an
 * initialisation function kept for code written against the original
 * pg_extension_base.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_EXTENSION_DEPENDENCIES_H
#define PG_EXTENSION_BASE_EXTENSION_DEPENDENCIES_H

/*
 * pg_extension_base.enable_extension_dependency_create and
 * pg_extension_base.enable_extension_dependency_update: the current values
 * in this process.  Read them; change them with SET (they are settings,
 * superuser only), not by assignment.
 */
extern PGDLLEXPORT bool EnableExtensionDependencyCreate;
extern PGDLLEXPORT bool EnableExtensionDependencyUpdate;

/*
 * Not used: always the empty string, which means "no escalation role" in
 * the original.  pg_extension_base never creates or updates a requirement
 * with more privileges than the current user's (deps/README.md says why).
 */
extern PGDLLEXPORT char *DependencyEscalationRoleName;

/*
 * Does nothing: the hook is installed when pg_extension_base loads
 * pg_extension_base_deps at server start, before any other library, so it
 * is in place before anyone can call this.  Calling it any number of times
 * is harmless.
 */
extern PGDLLEXPORT void InitializeExtensionDependencyInstaller(void);

#endif							/* PG_EXTENSION_BASE_EXTENSION_DEPENDENCIES_H */
