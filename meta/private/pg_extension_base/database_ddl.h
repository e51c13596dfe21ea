/*-------------------------------------------------------------------------
 *
 * database_ddl.h
 *	  Which database DDL needs free of other connections (private to our
 *	  modules, not installed).
 *
 * DROP DATABASE, CREATE DATABASE (from its template), ALTER DATABASE
 * RENAME and ALTER DATABASE SET TABLESPACE fail when another process is
 * connected to the database they name (core's CountOtherDBBackends, which
 * waits up to 5 s and signals only autovacuum).  Our processes connected
 * there, base workers (supervisor) and warm attached workers (attached),
 * must leave first: both modules' ProcessUtility hooks ask this one
 * function which database that is.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_DATABASE_DDL_H
#define PG_EXTENSION_BASE_DATABASE_DDL_H

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"

typedef enum PgebDatabaseDdl
{
	PGEB_DATABASE_DDL_NONE = 0,
	PGEB_DATABASE_DDL_DROP,		/* DROP DATABASE */
	PGEB_DATABASE_DDL_TEMPLATE, /* CREATE DATABASE copies it */
	PGEB_DATABASE_DDL_RENAME,	/* ALTER DATABASE RENAME */
	PGEB_DATABASE_DDL_TABLESPACE,	/* ALTER DATABASE SET TABLESPACE */
} PgebDatabaseDdl;

/*
 * What the statement does to which database (*database_id, InvalidOid when
 * it does not exist); NONE when it needs no database free.  DROP and
 * CREATE in a transaction block are refused by core: NONE.
 */
static inline PgebDatabaseDdl
pgeb_database_needing_no_connections(Node *parsetree, Oid *database_id)
{
	ListCell   *lc;

	*database_id = InvalidOid;
	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			if (IsTransactionBlock())
				return PGEB_DATABASE_DDL_NONE;
			*database_id = get_database_oid(((DropdbStmt *) parsetree)->dbname, true);
			return PGEB_DATABASE_DDL_DROP;
		case T_CreatedbStmt:
			{
				const char *template = "template1";

				if (IsTransactionBlock())
					return PGEB_DATABASE_DDL_NONE;
				foreach(lc, ((CreatedbStmt *) parsetree)->options)
				{
					DefElem    *option = lfirst(lc);

					if (strcmp(option->defname, "template") == 0 && option->arg != NULL)
						template = defGetString(option);
				}
				*database_id = get_database_oid(template, true);
				return PGEB_DATABASE_DDL_TEMPLATE;
			}
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType != OBJECT_DATABASE)
				return PGEB_DATABASE_DDL_NONE;
			*database_id = get_database_oid(((RenameStmt *) parsetree)->subname, true);
			return PGEB_DATABASE_DDL_RENAME;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) parsetree)->options)
			{
				if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
				{
					*database_id = get_database_oid(((AlterDatabaseStmt *) parsetree)->dbname,
													true);
					return PGEB_DATABASE_DDL_TABLESPACE;
				}
			}
			return PGEB_DATABASE_DDL_NONE;
		default:
			return PGEB_DATABASE_DDL_NONE;
	}
}

#endif							/* PG_EXTENSION_BASE_DATABASE_DDL_H */
