/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  Planning what to create and update before CREATE or ALTER EXTENSION.
 *
 * deps_plan() returns, leaves first, the CREATE EXTENSION and ALTER
 * EXTENSION ... UPDATE steps that make every requirement of an extension
 * exist and be at its default version before the extension itself is
 * created or updated.  See deps/README.md for the algorithm and an example.
 *
 * The requirements of an extension are those of every version its own
 * change goes through: core checks them step by step along the update path
 * (and along the path it installs through when there is no install script
 * for the target version), so all of them must exist before it starts.
 * Versions come from the primary control file overlaid with the per-version
 * secondary control file, read by the meta library's control-file reader.
 *
 * The whole plan is made before anything runs, so a cycle is reported
 * before any change; an extension that is not available is left in the plan
 * so that core's own CREATE EXTENSION raises its error.  Either way the
 * statement's transaction rolls back whatever ran.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>

#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "storage/fd.h"

#include "utils/acl.h"

#include "pg_extension_base/compat.h"
#include "deps.h"

/* An edge of the version graph: the script name--from--to.sql. */
typedef struct UpdateScript
{
	char	   *from;
	char	   *to;
} UpdateScript;

/* The scripts of one extension. */
typedef struct ExtensionScripts
{
	char	   *extname;
	List	   *install_versions;	/* char *: name--version.sql */
	List	   *updates;		/* UpdateScript * */
} ExtensionScripts;

/* State of one call of deps_plan(). */
typedef struct Planner
{
	const PgExtensionBaseApi *api;
	const DepsOptions *options;
	List	   *visited;		/* String nodes: extensions planned already */
	List	   *stack;			/* char *: extensions being planned */
	List	   *actions;		/* DepsAction *, leaves first */
	List	   *scripts;		/* ExtensionScripts * read so far, once each */
} Planner;

static void plan_extension(Planner *planner, PgebControlFile *control,
						   const char *from_version, const char *to_version);
static List *required_extensions(Planner *planner, PgebControlFile *control,
								 const char *from_version, const char *to_version);
static List *versions_passed(Planner *planner, PgebControlFile *control,
							 const char *from_version, const char *to_version);
static ExtensionScripts *read_scripts(Planner *planner, PgebControlFile *control);
static List *shortest_path(List *updates, List *sources, const char *target);
static bool can_update(Planner *planner, PgebControlFile *control,
					   const char *installed, const char *target);
static void add_action(Planner *planner, DepsActionKind kind,
					   const char *extname, const char *version);
static bool default_version_named(PgebControlFile *control, const char *version);
static void report_cycle(Planner *planner, const char *extname);
static bool string_member(List *list, const char *value);
static int	compare_strings(const ListCell *a, const ListCell *b);

/*
 * Plan the requirements of extname, which is about to be created
 * (from_version NULL) or updated from from_version, to to_version (NULL:
 * its default version).  Installed requirements are updated only when
 * extname goes to its default version.
 */
List *
deps_plan(const PgExtensionBaseApi *api, const DepsOptions *options,
		  const char *extname, const char *from_version, const char *to_version)
{
	Planner		planner = {0};
	DepsOptions pinned_options;
	PgebControlFile *control = api->read_control_file(extname, NULL, DEBUG1);

	/* no control file: core reports that when it gets there */
	if (control == NULL)
		return NIL;

	planner.api = api;
	planner.options = options;

	/*
	 * A version other than the default pins the extension to a past (or an
	 * alternative) version: installed requirements then stay where they are.
	 * Moving them to their newest would put an old version next to
	 * requirements it was never written for, and an extension update cannot
	 * be taken back.  Missing requirements are still created, since core
	 * cannot go on without them.  Naming the default version is the same as
	 * naming none.
	 */
	if (to_version != NULL && options->update_existing &&
		!default_version_named(control, to_version))
	{
		pinned_options = *options;
		pinned_options.update_existing = false;
		planner.options = &pinned_options;
	}

	planner.visited = list_make1(makeString(pstrdup(extname)));
	plan_extension(&planner, control, from_version, to_version);
	return planner.actions;
}

/*
 * Add to the plan what extname needs, leaves first: each requirement that is
 * missing is created after its own requirements; each that is installed is
 * updated to its default version after its own requirements.
 */
static void
plan_extension(Planner *planner, PgebControlFile *control,
			   const char *from_version, const char *to_version)
{
	ListCell   *lc;

	if (to_version == NULL)
		to_version = control->default_version;

	planner->stack = lappend(planner->stack, control->name);

	foreach(lc, required_extensions(planner, control, from_version, to_version))
	{
		char	   *required = (char *) lfirst(lc);
		char	   *installed;
		PgebControlFile *required_control;

		installed = planner->api->installed_extension_version(required);

		/*
		 * A cycle is an error when it runs through an extension we would
		 * have to create (core's CASCADE refuses it too); installed
		 * extensions that require each other are core's business.
		 */
		if (string_member(planner->stack, required))
		{
			if (installed == NULL)
				report_cycle(planner, required);
			continue;
		}
		if (list_member(planner->visited, makeString(required)))
			continue;
		planner->visited = lappend(planner->visited, makeString(required));

		required_control = planner->api->read_control_file(required, NULL, DEBUG1);

		if (installed == NULL)
		{
			if (!planner->options->create_missing)
				continue;		/* core reports it, as without us */
			if (required_control != NULL)
				plan_extension(planner, required_control, NULL,
							   required_control->default_version);
			/* when not available, core's CREATE EXTENSION says so */
			add_action(planner, DEPS_CREATE, required, NULL);
		}
		else if (required_control != NULL)
		{
			const char *target = required_control->default_version;

			if (planner->options->update_existing && target != NULL &&
				strcmp(installed, target) != 0 &&
				can_update(planner, required_control, installed, target))
			{
				plan_extension(planner, required_control, installed, target);
				add_action(planner, DEPS_UPDATE, required, target);
			}
			else
				plan_extension(planner, required_control, installed, installed);
		}
	}

	planner->stack = list_delete_last(planner->stack);
}

/*
 * The requirements of every version that creating or updating an extension
 * goes through, each once, in the order the control files list them.
 */
static List *
required_extensions(Planner *planner, PgebControlFile *control,
					const char *from_version, const char *to_version)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, versions_passed(planner, control, from_version, to_version))
	{
		PgebControlFile *versioned =
			planner->api->read_control_file(control->name, (char *) lfirst(lc), DEBUG1);
		ListCell   *req;

		if (versioned == NULL)
			continue;
		foreach(req, versioned->requires)
		{
			if (!string_member(result, (char *) lfirst(req)))
				result = lappend(result, lfirst(req));
		}
	}
	return result;
}

/*
 * The versions whose requirements core checks when it takes an extension
 * from from_version (NULL: not installed) to to_version: the versions along
 * the shortest path of update scripts, or the target alone when there is
 * no path (core then fails on its own).  When creating, the path starts at
 * to_version if it has an install script, else at the nearest version that
 * has one.
 */
static List *
versions_passed(Planner *planner, PgebControlFile *control,
				const char *from_version, const char *to_version)
{
	ExtensionScripts *scripts;
	List	   *path;

	if (to_version == NULL)
		return NIL;
	if (from_version != NULL && strcmp(from_version, to_version) == 0)
		return list_make1((char *) to_version);

	scripts = read_scripts(planner, control);
	if (from_version == NULL)
	{
		if (string_member(scripts->install_versions, to_version))
			return list_make1((char *) to_version);
		path = shortest_path(scripts->updates, scripts->install_versions, to_version);
	}
	else
	{
		path = shortest_path(scripts->updates, list_make1((char *) from_version),
							 to_version);
		/* the starting version is installed already */
		if (path != NIL)
			path = list_delete_first(path);
	}

	return path != NIL ? path : list_make1((char *) to_version);
}

/*
 * The install and update scripts of an extension, sorted by file name; the
 * directory is read once per statement.
 */
static ExtensionScripts *
read_scripts(Planner *planner, PgebControlFile *control)
{
	ExtensionScripts *scripts;
	char	   *prefix = psprintf("%s--", control->name);
	size_t		prefix_len = strlen(prefix);
	List	   *names = NIL;
	DIR		   *dir;
	struct dirent *de;
	ListCell   *lc;

	foreach(lc, planner->scripts)
	{
		scripts = (ExtensionScripts *) lfirst(lc);
		if (strcmp(scripts->extname, control->name) == 0)
			return scripts;
	}
	scripts = palloc0(sizeof(ExtensionScripts));
	scripts->extname = control->name;
	planner->scripts = lappend(planner->scripts, scripts);

	dir = AllocateDir(control->script_directory);
	while ((de = ReadDir(dir, control->script_directory)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (len > prefix_len + 4 &&
			strncmp(de->d_name, prefix, prefix_len) == 0 &&
			strcmp(de->d_name + len - 4, ".sql") == 0)
			names = lappend(names, pnstrdup(de->d_name + prefix_len,
											len - prefix_len - 4));
	}
	FreeDir(dir);
	list_sort(names, compare_strings);

	foreach(lc, names)
	{
		char	   *versions = (char *) lfirst(lc);
		char	   *separator = strstr(versions, "--");

		if (separator == NULL)
			scripts->install_versions = lappend(scripts->install_versions, versions);
		else if (strstr(separator + 2, "--") != NULL)
			continue;			/* not a script core would use */
		else
		{
			UpdateScript *update = palloc(sizeof(UpdateScript));

			*separator = '\0';
			update->from = versions;
			update->to = separator + 2;
			scripts->updates = lappend(scripts->updates, update);
		}
	}
	return scripts;
}

/*
 * Breadth-first search over update scripts from any of sources to target.
 * Returns the versions from the source to the target, both included, or
 * NIL when there is no path.
 */
static List *
shortest_path(List *updates, List *sources, const char *target)
{
	List	   *queue = NIL;	/* char *: versions to expand */
	List	   *reached = NIL;	/* char *: every version seen */
	List	   *previous = NIL; /* char *: the version each came from, or NULL */
	ListCell   *lc;
	int			i;

	foreach(lc, sources)
	{
		queue = lappend(queue, lfirst(lc));
		reached = lappend(reached, lfirst(lc));
		previous = lappend(previous, NULL);
	}

	for (i = 0; i < list_length(queue); i++)
	{
		char	   *version = (char *) list_nth(queue, i);

		if (strcmp(version, target) == 0)
		{
			List	   *path = NIL;
			char	   *step = version;

			while (step != NULL)
			{
				int			at = 0;
				ListCell   *r;

				path = lcons(step, path);
				foreach(r, reached)
				{
					if (strcmp((char *) lfirst(r), step) == 0)
						break;
					at++;
				}
				step = (char *) list_nth(previous, at);
			}
			return path;
		}

		foreach(lc, updates)
		{
			UpdateScript *update = (UpdateScript *) lfirst(lc);

			if (strcmp(update->from, version) != 0 ||
				string_member(reached, update->to))
				continue;
			queue = lappend(queue, update->to);
			reached = lappend(reached, update->to);
			previous = lappend(previous, version);
		}
	}
	return NIL;
}

/*
 * Whether we should update an installed requirement: only along an update
 * path, and only when the current user may (core requires ownership).  We
 * add to what core does, never make a statement core would accept fail, so
 * otherwise the requirement stays as it is, with a NOTICE.
 */
static bool
can_update(Planner *planner, PgebControlFile *control, const char *installed,
		   const char *target)
{
	ExtensionScripts *scripts = read_scripts(planner, control);
	const char *reason = NULL;

	if (shortest_path(scripts->updates, list_make1((char *) installed), target) == NIL)
		reason = "there is no update path";
	else if (!PGEB_EXTENSION_OWNERCHECK(get_extension_oid(control->name, false),
										GetUserId()))
		reason = "the current user does not own it";

	if (reason == NULL)
		return true;
	ereport(NOTICE,
			(errmsg("not updating required extension \"%s\" from version \"%s\" to \"%s\": %s",
					control->name, installed, target, reason)));
	return false;
}

static void
add_action(Planner *planner, DepsActionKind kind, const char *extname,
		   const char *version)
{
	DepsAction *action = palloc(sizeof(DepsAction));

	action->kind = kind;
	action->extname = pstrdup(extname);
	action->version = version ? pstrdup(version) : NULL;
	planner->actions = lappend(planner->actions, action);
}

/* Whether version is the default version of the extension control describes. */
static bool
default_version_named(PgebControlFile *control, const char *version)
{
	return control->default_version != NULL &&
		strcmp(control->default_version, version) == 0;
}

/* Raise core's error for a requirement cycle, with the whole chain. */
static void
report_cycle(Planner *planner, const char *extname)
{
	StringInfoData chain;
	ListCell   *lc;
	bool		in_cycle = false;

	initStringInfo(&chain);
	foreach(lc, planner->stack)
	{
		in_cycle |= (strcmp((char *) lfirst(lc), extname) == 0);
		if (in_cycle)
			appendStringInfo(&chain, "\"%s\" requires ", (char *) lfirst(lc));
	}
	appendStringInfo(&chain, "\"%s\"", extname);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_RECURSION),
			 errmsg("cyclic dependency detected between extensions \"%s\" and \"%s\"",
					extname, (char *) llast(planner->stack)),
			 errdetail("The requirements form a cycle: %s; nothing was created or updated.",
					   chain.data)));
}

static bool
string_member(List *list, const char *value)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		if (strcmp((char *) lfirst(lc), value) == 0)
			return true;
	}
	return false;
}

static int
compare_strings(const ListCell *a, const ListCell *b)
{
	return strcmp((char *) lfirst(a), (char *) lfirst(b));
}
