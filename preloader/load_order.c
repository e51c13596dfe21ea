/*-------------------------------------------------------------------------
 *
 * load_order.c
 *	  Putting the libraries of marked extensions in load order.
 *
 * The order is deterministic and dependency-aware: the libraries of an
 * extension load after those of every marked extension it requires,
 * directly or through extensions that are not marked; among extensions
 * free to load, the first by name goes first (Kahn's algorithm, smallest
 * name first).  A requirement cycle is reported once and broken by name
 * order: of the extensions in the cycle whose other requirements are all
 * loaded, the first by name loads first.
 *
 * Within an extension, libraries keep the order of its markers.  A library
 * asked for twice loads once, at its first place; the pg_extension_base
 * libraries themselves are never loaded again.
 *
 * Runs in the postmaster on a few hundred marked extensions at most, so
 * plain arrays and quadratic loops are the simple and sufficient choice;
 * only control files of marked extensions and of what they require are
 * parsed, from the text the scan read, and only when the scan cache does
 * not know them already.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/value.h"

#include "pg_extension_base/compat.h"
#include "preloader.h"

/* The marked extensions as a graph; lives for one call. */
typedef struct PreloadGraph
{
	int			count;
	PreloadRequest **nodes;		/* sorted by extension name */
	List	  **deps;			/* per node: integer list of node indexes */
	bool	   *done;
	bool	   *cycle_reported;
} PreloadGraph;

static const char *const own_libraries[] = {
	"pg_extension_base",
	"pg_extension_base_deps",
	"pg_extension_base_supervisor",
	"pg_extension_base_attached",
	"pg_extension_base_preloader",
};

static bool resolve_request(const PgExtensionBaseApi *api, PreloadRequest *request);
static void build_edges(const PgExtensionBaseApi *api, ScanCache *cache,
						PreloadGraph *graph, List *entries);
static int	find_entry(List *entries, const char *extname);
static List *unmarked_requires(const PgExtensionBaseApi *api, ScanCache *cache,
							   PgebControlFileEntry *entry);
static int	find_node(PreloadGraph *graph, const char *extname);
static int	next_free_node(PreloadGraph *graph);
static int	break_cycle(PreloadGraph *graph);
static bool reaches(PreloadGraph *graph, int from, int to);
static List *emit_libraries(List *result, List **seen, PreloadRequest *request);
static char *library_key(const char *library);
static int	compare_requests_by_name(const ListCell *a, const ListCell *b);

/*
 * Order the libraries of the given requests; entries are all the control
 * files scanned, where requirements are looked up.  Returns
 * PreloadedLibrary pointers in load order, with load_position set.
 */
List *
preload_order_libraries(const PgExtensionBaseApi *api, ScanCache *cache,
						List *requests, List *entries)
{
	PreloadGraph graph;
	List	   *usable = NIL;
	List	   *result = NIL;
	List	   *seen = NIL;
	ListCell   *lc;
	int			i;
	int			position = 0;

	foreach(lc, requests)
	{
		PreloadRequest *request = (PreloadRequest *) lfirst(lc);

		if (request->resolved || resolve_request(api, request))
			usable = lappend(usable, request);
	}
	list_sort(usable, compare_requests_by_name);

	graph.count = list_length(usable);
	graph.nodes = palloc0(sizeof(PreloadRequest *) * (graph.count + 1));
	graph.deps = palloc0(sizeof(List *) * (graph.count + 1));
	graph.done = palloc0(sizeof(bool) * (graph.count + 1));
	graph.cycle_reported = palloc0(sizeof(bool) * (graph.count + 1));
	i = 0;
	foreach(lc, usable)
		graph.nodes[i++] = (PreloadRequest *) lfirst(lc);

	build_edges(api, cache, &graph, entries);

	for (i = 0; i < graph.count; i++)
	{
		int			node = next_free_node(&graph);

		if (node < 0)
			node = break_cycle(&graph);
		graph.done[node] = true;
		result = emit_libraries(result, &seen, graph.nodes[node]);
	}

	foreach(lc, result)
		((PreloadedLibrary *) lfirst(lc))->load_position = ++position;

	return result;
}

/*
 * Read the control file of a marked extension for its requirements and
 * module_pathname.  A control file that core could not parse either is
 * skipped: CREATE EXTENSION would fail on it anyway.
 */
static bool
resolve_request(const PgExtensionBaseApi *api, PreloadRequest *request)
{
	PgebControlFile *control = api->parse_control_entry(request->entry, WARNING);
	ListCell   *lc;

	if (control == NULL)
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("skipping extension control file \"%s\": it cannot be parsed",
						request->entry->path)));
		return false;
	}

	request->requires = control->requires;
	foreach(lc, request->libraries)
	{
		if (lfirst(lc) == NULL)
			lfirst(lc) = control->module_pathname ?
				control->module_pathname : request->entry->name;
	}
	request->resolved = true;
	request->cacheable = scan_cache_file_alone(request->entry, control);
	return true;
}

/*
 * deps[i] = the marked extensions that node i requires, directly or through
 * unmarked extensions, whose requirements come from the scan cache or are
 * parsed on demand, once, from the text the scan read.
 */
static void
build_edges(const PgExtensionBaseApi *api, ScanCache *cache,
			PreloadGraph *graph, List *entries)
{
	List	  **unmarked_requires_of = palloc0(sizeof(List *) * list_length(entries));
	bool	   *known = palloc0(sizeof(bool) * list_length(entries));
	int			i;

	for (i = 0; i < graph->count; i++)
	{
		List	   *pending = list_copy(graph->nodes[i]->requires);
		List	   *visited = NIL;

		while (pending != NIL)
		{
			char	   *name = (char *) linitial(pending);
			int			node;
			int			index;

			pending = list_delete_first(pending);
			if (list_member(visited, makeString(name)))
				continue;
			visited = lappend(visited, makeString(name));

			node = find_node(graph, name);
			if (node >= 0)
			{
				/* marked: an edge; what it requires is its own business */
				graph->deps[i] = list_append_unique_int(graph->deps[i], node);
				continue;
			}

			/* a missing requirement is CREATE EXTENSION's to report */
			index = find_entry(entries, name);
			if (index < 0)
				continue;
			if (!known[index])
			{
				unmarked_requires_of[index] =
					unmarked_requires(api, cache, list_nth(entries, index));
				known[index] = true;
			}
			pending = list_concat(pending, unmarked_requires_of[index]);
		}
	}
}

/* Where an extension is in the entries, sorted by name, or -1. */
static int
find_entry(List *entries, const char *extname)
{
	int			low = 0;
	int			high = list_length(entries) - 1;

	while (low <= high)
	{
		int			middle = low + (high - low) / 2;
		PgebControlFileEntry *entry = list_nth(entries, middle);
		int			cmp = strcmp(entry->name, extname);

		if (cmp == 0)
			return middle;
		if (cmp < 0)
			low = middle + 1;
		else
			high = middle - 1;
	}
	return -1;
}

/* What an extension that asks for no preloading requires. */
static List *
unmarked_requires(const PgExtensionBaseApi *api, ScanCache *cache,
				  PgebControlFileEntry *entry)
{
	bool		marked;
	List	   *requires;
	PgebControlFile *control;

	if (scan_cache_facts(cache, entry, &marked, NULL, &requires))
		return requires;
	control = api->parse_control_entry(entry, DEBUG1);
	return control ? control->requires : NIL;
}

static int
find_node(PreloadGraph *graph, const char *extname)
{
	int			i;

	for (i = 0; i < graph->count; i++)
	{
		if (strcmp(graph->nodes[i]->entry->name, extname) == 0)
			return i;
	}
	return -1;
}

/* The first node by name whose requirements are all loaded, or -1. */
static int
next_free_node(PreloadGraph *graph)
{
	int			i;

	for (i = 0; i < graph->count; i++)
	{
		ListCell   *lc;
		bool		free = true;

		if (graph->done[i])
			continue;
		foreach(lc, graph->deps[i])
		{
			int			dep = lfirst_int(lc);

			if (dep != i && !graph->done[dep])
			{
				free = false;
				break;
			}
		}
		if (free)
			return i;
	}
	return -1;
}

/*
 * Every node left waits for another: pick the first node by name whose
 * unloaded requirements all lie in its own cycle, report that cycle unless
 * an earlier break already did, and return the node.
 */
static int
break_cycle(PreloadGraph *graph)
{
	int			i;

	for (i = 0; i < graph->count; i++)
	{
		ListCell   *lc;
		bool		candidate = true;

		if (graph->done[i])
			continue;
		foreach(lc, graph->deps[i])
		{
			int			dep = lfirst_int(lc);

			if (!graph->done[dep] && !reaches(graph, dep, i))
			{
				candidate = false;
				break;
			}
		}
		if (!candidate)
			continue;

		if (!graph->cycle_reported[i])
		{
			StringInfoData members;
			int			j;

			initStringInfo(&members);
			for (j = 0; j < graph->count; j++)
			{
				if (graph->done[j] ||
					!(j == i || (reaches(graph, i, j) && reaches(graph, j, i))))
					continue;
				graph->cycle_reported[j] = true;
				appendStringInfo(&members, "%s\"%s\"",
								 members.len > 0 ? ", " : "",
								 graph->nodes[j]->entry->name);
			}
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("extensions that ask for preloading require each other in a cycle: %s",
							members.data),
					 errdetail("The libraries of \"%s\" are loaded first, by name order.",
							   graph->nodes[i]->entry->name)));
		}
		return i;
	}

	elog(ERROR, "no extension left to preload breaks the requirement cycle");
	return -1;					/* keep the compiler quiet */
}

/* Is "to" reachable from "from" through requirements not yet loaded? */
static bool
reaches(PreloadGraph *graph, int from, int to)
{
	bool	   *visited = palloc0(sizeof(bool) * graph->count);
	List	   *stack = list_make1_int(from);
	bool		result = false;

	while (stack != NIL && !result)
	{
		int			node = llast_int(stack);
		ListCell   *lc;

		stack = list_delete_last(stack);
		if (visited[node])
			continue;
		visited[node] = true;
		foreach(lc, graph->deps[node])
		{
			int			dep = lfirst_int(lc);

			if (dep == to)
				result = true;
			else if (!graph->done[dep])
				stack = lappend_int(stack, dep);
		}
	}
	pfree(visited);
	list_free(stack);
	return result;
}

/* Append the libraries of one request that are not loaded already. */
static List *
emit_libraries(List *result, List **seen, PreloadRequest *request)
{
	ListCell   *lc;

	foreach(lc, request->libraries)
	{
		char	   *library = (char *) lfirst(lc);
		char	   *key = library_key(library);
		PreloadedLibrary *entry;
		int			i;
		bool		own = false;

		for (i = 0; i < (int) lengthof(own_libraries); i++)
			own |= (strcmp(key, own_libraries[i]) == 0);
		if (own)
		{
			ereport(DEBUG1,
					(errmsg_internal("not preloading \"%s\" for extension \"%s\": pg_extension_base loads it",
									 library, request->entry->name)));
			continue;
		}
		if (list_member(*seen, makeString(key)))
			continue;
		*seen = lappend(*seen, makeString(key));

		entry = palloc0(sizeof(PreloadedLibrary));
		entry->extension_name = request->entry->name;
		entry->library_name = library;
		entry->control_path = request->entry->path;
		result = lappend(result, entry);
	}
	return result;
}

/*
 * The name that identifies a library for de-duplication: "$libdir/x.so",
 * "$libdir/x", "x" and "/some/dir/x.so" are the same library.  (Two
 * different files of the same name are very unlikely; de-duplicating them
 * wrongly would only skip the second, and load_file would have refused it
 * anyway if it were the same file.)
 */
static char *
library_key(const char *library)
{
	const char *base = last_dir_separator(library);
	size_t		len;

	base = base ? base + 1 : library;
	len = strlen(base);
	if (len > strlen(DLSUFFIX) &&
		strcmp(base + len - strlen(DLSUFFIX), DLSUFFIX) == 0)
		len -= strlen(DLSUFFIX);
	return pnstrdup(base, len);
}

static int
compare_requests_by_name(const ListCell *a, const ListCell *b)
{
	return strcmp(((PreloadRequest *) lfirst(a))->entry->name,
				  ((PreloadRequest *) lfirst(b))->entry->name);
}
