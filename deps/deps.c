/*-------------------------------------------------------------------------
 *
 * deps.c
 *	  pg_extension_base_deps: creates and updates extension dependencies
 *	  during CREATE and ALTER EXTENSION.
 *
 * A ProcessUtility hook acting on top-level CREATE EXTENSION and ALTER
 * EXTENSION ... UPDATE.  Before core runs the statement, it creates the
 * requirements that are missing (as CASCADE would, so CREATE EXTENSION
 * pg_extension_base works without it) and updates the installed ones to
 * their default versions, leaves first, so that the extension's scripts see
 * current dependencies.  plan.c decides the steps; this file runs them.
 *
 * Each step runs through ProcessUtility() as a statement of its own, so
 * every hook in the chain (allow-lists, policies) and event triggers see
 * it: the meta library loads this module before any third-party library,
 * so their hooks wrap ours.  Steps run with context PROCESS_UTILITY_QUERY,
 * which we do not act on again.  Privileges are core's: a step runs as the
 * current user, and core's error names the extension it refused.
 *
 * The installed header extension_dependencies.h gives other extensions the
 * variables behind the two settings, under the original pg_extension_base's
 * names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "parser/parser.h"
#include "tcop/dest.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"
#include "pg_extension_base/extension_dependencies.h"
#include "deps.h"

#define MODULE_NAME "pg_extension_base_deps"

PGEB_MODULE_MAGIC(MODULE_NAME);

/* extension_dependencies.h: the two settings */
bool		EnableExtensionDependencyCreate = true;
bool		EnableExtensionDependencyUpdate = true;

/*
 * extension_dependencies.h: the original's escalation role, which we do not
 * have (README.md, "Privileges"): always empty, which means none there.
 */
static char no_escalation_role[] = "";
char	   *DependencyEscalationRoleName = no_escalation_role;

static const PgExtensionBaseApi *pgeb_api = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

void		_PG_init(void);
static void deps_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								bool readOnlyTree, ProcessUtilityContext context,
								ParamListInfo params, QueryEnvironment *queryEnv,
								DestReceiver *dest, QueryCompletion *qc);
static bool valid_name(const char *name);
static void prepare_create(CreateExtensionStmt *stmt);
static void prepare_update(AlterExtensionStmt *stmt);
static void run_plan(List *plan, const char *schema);
static void run_statement(const char *sql);
static const char *option_string(List *options, const char *name);

/* Runs in the postmaster, called by the meta library's _PG_init. */
void
_PG_init(void)
{
	const PgExtensionBaseApi *api = pgeb_attach_component(MODULE_NAME);
	int			module_id = pgeb_register_component(api, MODULE_NAME);

	DefineCustomBoolVariable("pg_extension_base.enable_extension_dependency_create",
							 "Creates the missing requirements of an extension before CREATE or ALTER EXTENSION.",
							 "Off leaves it to core: a missing requirement is an error unless CREATE EXTENSION has CASCADE.",
							 &EnableExtensionDependencyCreate,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_extension_base.enable_extension_dependency_update",
							 "Updates the installed requirements of an extension to their default versions before CREATE or ALTER EXTENSION.",
							 NULL,
							 &EnableExtensionDependencyUpdate,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = deps_ProcessUtility;

	api->module_initialized(module_id);
	pgeb_api = api;
}

/*
 * extension_dependencies.h: the original's way to install the hook, which
 * _PG_init has installed before any other library could call this.  So it
 * only checks that this library did initialise, and calling it again does
 * nothing (installing the hook twice would run every plan twice).
 */
void
InitializeExtensionDependencyInstaller(void)
{
	pgeb_require_loaded(pgeb_api, MODULE_NAME);
}

static void
deps_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					bool readOnlyTree, ProcessUtilityContext context,
					ParamListInfo params, QueryEnvironment *queryEnv,
					DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (context == PROCESS_UTILITY_TOPLEVEL && pgeb_api != NULL &&
		(EnableExtensionDependencyCreate || EnableExtensionDependencyUpdate))
	{
		if (IsA(parsetree, CreateExtensionStmt))
			prepare_create((CreateExtensionStmt *) parsetree);
		else if (IsA(parsetree, AlterExtensionStmt))
			prepare_update((AlterExtensionStmt *) parsetree);
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

static DepsOptions
current_options(void)
{
	DepsOptions options;

	options.create_missing = EnableExtensionDependencyCreate;
	options.update_existing = EnableExtensionDependencyUpdate;
	return options;
}

/*
 * Core's rules for extension and version names (check_valid_extension_name
 * and check_valid_version_name, which run after us): a name that breaks
 * them must not make us look for files, so we leave it to core's error.
 */
static bool
valid_name(const char *name)
{
	size_t		len = name ? strlen(name) : 0;

	return len > 0 && strstr(name, "--") == NULL &&
		name[0] != '-' && name[len - 1] != '-' &&
		first_dir_separator(name) == NULL;
}

/* Before CREATE EXTENSION x [SCHEMA s] [VERSION v]. */
static void
prepare_create(CreateExtensionStmt *stmt)
{
	DepsOptions options = current_options();
	const char *version = option_string(stmt->options, "new_version");

	if (!valid_name(stmt->extname) || (version != NULL && !valid_name(version)))
		return;

	/* already there: core raises its error or notice, nothing to prepare */
	if (pgeb_api->installed_extension_version(stmt->extname) != NULL)
		return;

	run_plan(deps_plan(pgeb_api, &options, stmt->extname, NULL, version),
			 option_string(stmt->options, "schema"));
}

/* Before ALTER EXTENSION x UPDATE [TO v]. */
static void
prepare_update(AlterExtensionStmt *stmt)
{
	DepsOptions options = current_options();
	const char *version = option_string(stmt->options, "new_version");
	char	   *installed;

	if (!valid_name(stmt->extname) || (version != NULL && !valid_name(version)))
		return;
	installed = pgeb_api->installed_extension_version(stmt->extname);

	/* not installed: core raises its error */
	if (installed == NULL)
		return;

	run_plan(deps_plan(pgeb_api, &options, stmt->extname, installed, version),
			 NULL);
}

/*
 * Run the steps of a plan, each a statement of its own.  Requirements are
 * created in the schema given to the original CREATE EXTENSION, with
 * CASCADE semantics, as core's CASCADE does.
 */
static void
run_plan(List *plan, const char *schema)
{
	ListCell   *lc;

	foreach(lc, plan)
	{
		DepsAction *action = (DepsAction *) lfirst(lc);

		if (action->kind == DEPS_CREATE)
		{
			ereport(NOTICE,
					(errmsg("creating required extension \"%s\"", action->extname)));
			run_statement(psprintf("CREATE EXTENSION %s%s%s CASCADE",
								   quote_identifier(action->extname),
								   schema ? " SCHEMA " : "",
								   schema ? quote_identifier(schema) : ""));
		}
		else
		{
			ereport(NOTICE,
					(errmsg("updating required extension \"%s\" to version \"%s\"",
							action->extname, action->version)));
			run_statement(psprintf("ALTER EXTENSION %s UPDATE TO %s",
								   quote_identifier(action->extname),
								   quote_literal_cstr(action->version)));
		}
	}
}

/* Run one utility statement through the whole ProcessUtility chain. */
static void
run_statement(const char *sql)
{
	RawStmt    *raw = linitial_node(RawStmt, raw_parser(sql, RAW_PARSE_DEFAULT));
	PlannedStmt *pstmt = makeNode(PlannedStmt);

	pstmt->commandType = CMD_UTILITY;
	pstmt->canSetTag = false;
	pstmt->utilityStmt = raw->stmt;
	pstmt->stmt_location = raw->stmt_location;
	pstmt->stmt_len = raw->stmt_len;

	ProcessUtility(pstmt, sql, false, PROCESS_UTILITY_QUERY, NULL, NULL,
				   None_Receiver, NULL);
	CommandCounterIncrement();
}

/* The string value of a statement option, or NULL. */
static const char *
option_string(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *option = (DefElem *) lfirst(lc);

		if (strcmp(option->defname, name) == 0 && option->arg != NULL)
			return defGetString(option);
	}
	return NULL;
}
