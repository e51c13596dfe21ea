/*-------------------------------------------------------------------------
 *
 * preloader.c
 *	  pg_extension_base_preloader: loads, at server start, the libraries of
 *	  extensions whose control files ask for it.
 *
 * The meta library loads this module last, so the libraries loaded here may
 * call into the other components.  In the postmaster, _PG_init scans every
 * primary control file for the #!shared_preload_libraries marker
 * (marker.c), orders the libraries (load_order.c), logs the order once, and
 * loads each one as core loads shared_preload_libraries.  A library that
 * fails to load stops the server with a message naming the control file and
 * the library, unless pg_extension_base.preload_failure_action = 'warning'.
 *
 * What was loaded is kept in TopMemoryContext of the postmaster, which every
 * child inherits; it never changes after startup (a crash restart does not
 * load libraries again), so list_preload_libraries() needs no shared memory
 * and no lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"
#include "preloader.h"

#define MODULE_NAME "pg_extension_base_preloader"

PGEB_MODULE_MAGIC(MODULE_NAME);

typedef enum PreloadFailureAction
{
	PRELOAD_FAILURE_ERROR,
	PRELOAD_FAILURE_WARNING
} PreloadFailureAction;

static const struct config_enum_entry failure_action_options[] = {
	{"error", PRELOAD_FAILURE_ERROR, false},
	{"warning", PRELOAD_FAILURE_WARNING, false},
	{NULL, 0, false}
};

static bool enable_preload_libraries = true;
static int	preload_failure_action = PRELOAD_FAILURE_ERROR;

/* Set when _PG_init completed; SQL functions refuse to run otherwise. */
static const PgExtensionBaseApi *pgeb_api = NULL;

/* PreloadedLibrary pointers in load order; see the file header. */
static List *preloaded_libraries = NIL;

void		_PG_init(void);
static void define_settings(void);
static int	scan_detail(int scanned, int unchanged, double milliseconds);
static List *find_preload_requests(const PgExtensionBaseApi *api,
								   ScanCache *cache, List *entries);
static void remember_read_files(const PgExtensionBaseApi *api, ScanCache *cache,
								List *entries, List *requests);
static void log_load_order(List *libraries, int scanned, int unchanged,
						   double milliseconds);
static void load_library(const PgExtensionBaseApi *api, PreloadedLibrary *library);
static Datum text_from_bytes(const char *bytes);

/* Runs in the postmaster, called by the meta library's _PG_init. */
void
_PG_init(void)
{
	const PgExtensionBaseApi *api = pgeb_attach_component(MODULE_NAME);
	int			module_id = pgeb_register_component(api, MODULE_NAME);
	MemoryContext scan_context;
	MemoryContext old_context;
	List	   *entries;
	List	   *libraries;
	instr_time	scan_start;
	instr_time	scan_time;
	ScanCache  *cache;
	List	   *requests;
	ListCell   *lc;

	define_settings();

	if (!enable_preload_libraries)
	{
		ereport(LOG,
				(errmsg("pg_extension_base: preloading libraries from extension control files is disabled")));
		api->module_initialized(module_id);
		pgeb_api = api;
		return;
	}

	/*
	 * Scratch memory for the scan, freed at the end.  What we keep (the
	 * list of libraries) goes to TopMemoryContext, which children inherit;
	 * the postmaster's current context does not survive into backends.
	 */
	scan_context = AllocSetContextCreate(TopMemoryContext,
										 "pg_extension_base preloader scan",
										 ALLOCSET_DEFAULT_SIZES);
	old_context = MemoryContextSwitchTo(scan_context);

	INSTR_TIME_SET_CURRENT(scan_start);
	cache = scan_cache_load();
	entries = api->list_control_files(scan_cache_listing_callbacks(cache));
	requests = find_preload_requests(api, cache, entries);
	libraries = preload_order_libraries(api, cache, requests, entries);
	remember_read_files(api, cache, entries, requests);
	scan_cache_save(cache);
	INSTR_TIME_SET_CURRENT(scan_time);
	INSTR_TIME_SUBTRACT(scan_time, scan_start);
	log_load_order(libraries, list_length(entries), scan_cache_skipped(cache),
				   INSTR_TIME_GET_MILLISEC(scan_time));

	MemoryContextSwitchTo(TopMemoryContext);
	foreach(lc, libraries)
	{
		PreloadedLibrary *scanned = (PreloadedLibrary *) lfirst(lc);
		PreloadedLibrary *kept = palloc0(sizeof(PreloadedLibrary));

		kept->extension_name = pstrdup(scanned->extension_name);
		kept->library_name = pstrdup(scanned->library_name);
		kept->control_path = pstrdup(scanned->control_path);
		kept->load_position = scanned->load_position;
		preloaded_libraries = lappend(preloaded_libraries, kept);
	}
	MemoryContextSwitchTo(old_context);
	MemoryContextDelete(scan_context);

	foreach(lc, preloaded_libraries)
		load_library(api, (PreloadedLibrary *) lfirst(lc));

	api->module_initialized(module_id);
	pgeb_api = api;
}

static void
define_settings(void)
{
	DefineCustomBoolVariable("pg_extension_base.enable_preload_libraries",
							 "Loads at server start the libraries of extensions whose control files ask for it.",
							 "Control files ask with a #!shared_preload_libraries line.",
							 &enable_preload_libraries,
							 true,
							 PGC_POSTMASTER,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("pg_extension_base.preload_failure_action",
							 "What to do when a library asked for by a control file cannot be loaded.",
							 "\"error\" stops the server, as for shared_preload_libraries; \"warning\" logs the failure and starts without that library.",
							 &preload_failure_action,
							 PRELOAD_FAILURE_ERROR,
							 failure_action_options,
							 PGC_POSTMASTER,
							 0,
							 NULL, NULL, NULL);
}

/*
 * The control files that carry a valid marker, sorted by extension name:
 * what the scan cache remembers of the files the scan did not read, the
 * markers of those it read.
 */
static List *
find_preload_requests(const PgExtensionBaseApi *api, ScanCache *cache,
					  List *entries)
{
	List	   *requests = NIL;
	ListCell   *lc;

	foreach(lc, entries)
	{
		PgebControlFileEntry *entry = (PgebControlFileEntry *) lfirst(lc);
		PreloadRequest *request;

		if (!entry->read)
		{
			bool		marked;
			List	   *libraries;
			List	   *requires;

			if (scan_cache_facts(cache, entry, &marked, &libraries, &requires))
			{
				if (!marked)
					continue;
				request = palloc0(sizeof(PreloadRequest));
				request->entry = entry;
				request->libraries = libraries;
				request->requires = requires;
				request->resolved = true;
				requests = lappend(requests, request);
				continue;
			}

			/*
			 * Remembered, but a secondary control file has appeared beside
			 * it since: parsing reads it, for its markers too.
			 */
			(void) api->parse_control_entry(entry, DEBUG1);
		}

		request = preload_read_markers(entry);
		if (request != NULL)
			requests = lappend(requests, request);
	}
	return requests;
}

/*
 * Tell the scan cache what this start learned from the files it read, so
 * that the next start need not read them: the libraries and requirements of
 * each marked file that resolved from its own text, the requirements of
 * each file without any marker text.  A file that produced a warning (a
 * malformed or indented marker, a parse error) is not remembered, so the
 * warning comes again at the next start.
 */
static void
remember_read_files(const PgExtensionBaseApi *api, ScanCache *cache,
					List *entries, List *requests)
{
	ListCell   *lc;

	foreach(lc, requests)
	{
		PreloadRequest *request = (PreloadRequest *) lfirst(lc);

		if (request->entry->read && request->resolved && request->cacheable &&
			!request->warned)
			scan_cache_remember(cache, request->entry, request->libraries,
								request->requires);
	}

	foreach(lc, entries)
	{
		PgebControlFileEntry *entry = (PgebControlFileEntry *) lfirst(lc);
		PgebControlFile *control;

		if (!entry->read || entry->text == NULL ||
			!scan_cache_file_alone(entry, NULL) ||
			strstr(entry->text, PRELOAD_MARKER) != NULL)
			continue;
		control = api->parse_control_entry(entry, DEBUG1);
		if (control != NULL && scan_cache_file_alone(entry, control))
			scan_cache_remember(cache, entry, NIL, control->requires);
	}
}

/*
 * One LOG line with the whole order, so operators can see it at a glance,
 * and what finding it cost.
 */
static void
log_load_order(List *libraries, int scanned, int unchanged, double milliseconds)
{
	StringInfoData order;
	ListCell   *lc;

	if (libraries == NIL)
	{
		ereport(LOG,
				(errmsg("pg_extension_base: no extension control file asks for preloading"),
				 scan_detail(scanned, unchanged, milliseconds)));
		return;
	}

	initStringInfo(&order);
	foreach(lc, libraries)
	{
		PreloadedLibrary *library = (PreloadedLibrary *) lfirst(lc);

		appendStringInfo(&order, "%s%s (%s)", order.len > 0 ? ", " : "",
						 library->library_name, library->extension_name);
	}
	ereport(LOG,
			(errmsg_plural("pg_extension_base: preloading %d library: %s",
						   "pg_extension_base: preloading %d libraries in this order: %s",
						   list_length(libraries),
						   list_length(libraries), order.data),
			 scan_detail(scanned, unchanged, milliseconds)));
}

static int
scan_detail(int scanned, int unchanged, double milliseconds)
{
	return errdetail("Scanned %d control files in %.1f ms; %d of them, unchanged since they were last read, were not read again.",
					 scanned, milliseconds, unchanged);
}

/*
 * Load one library as core loads shared_preload_libraries.  On failure the
 * error names the control file and library; with preload_failure_action =
 * 'warning' it is logged and startup goes on.
 */
static void
load_library(const PgExtensionBaseApi *api, PreloadedLibrary *library)
{
	char	   *context = psprintf("while preloading library \"%s\" for extension \"%s\", as requested by extension control file \"%s\"",
								   library->library_name, library->extension_name,
								   library->control_path);
	MemoryContext caller_context = CurrentMemoryContext;

	library->loaded = true;
	if (preload_failure_action == PRELOAD_FAILURE_ERROR)
		api->load_library(library->library_name, context);
	else
	{
		PG_TRY();
		{
			api->load_library(library->library_name, context);
		}
		PG_CATCH();
		{
			ErrorData  *error;

			MemoryContextSwitchTo(TopMemoryContext);
			error = CopyErrorData();
			FlushErrorState();
			MemoryContextSwitchTo(caller_context);

			library->loaded = false;
			library->error = error->message ? error->message : "unknown error";
			ereport(WARNING,
					(errcode(error->sqlerrcode),
					 errmsg("could not preload library \"%s\" requested by extension control file \"%s\": %s",
							library->library_name, library->control_path,
							error->message),
					 errdetail("The server starts without it because pg_extension_base.preload_failure_action is \"warning\".")));
		}
		PG_END_TRY();
	}
	pfree(context);
}

PG_FUNCTION_INFO_V1(pgeb_list_preload_libraries);

/*
 * list_preload_libraries(out extension_name text, out library_name text,
 * out load_position int, out control_file text, out loaded bool, out error
 * text): what the postmaster preloaded at startup, in load order.
 */
Datum
pgeb_list_preload_libraries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	pgeb_require_loaded(pgeb_api, MODULE_NAME);
	InitMaterializedSRF(fcinfo, 0);

	foreach(lc, preloaded_libraries)
	{
		PreloadedLibrary *library = (PreloadedLibrary *) lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = text_from_bytes(library->extension_name);
		values[1] = text_from_bytes(library->library_name);
		values[2] = Int32GetDatum(library->load_position);
		values[3] = text_from_bytes(library->control_path);
		values[4] = BoolGetDatum(library->loaded);
		if (library->error != NULL)
			values[5] = text_from_bytes(library->error);
		else
			nulls[5] = true;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/*
 * A text value of bytes that come from the file system (file names, what a
 * control file says, messages that quote them), which need not be valid in
 * the database's encoding: a byte that does not start a valid character is
 * written as \xNN.  A text value must be valid in the database encoding;
 * otherwise it fails later, in a conversion to the client's encoding, or
 * is stored as it is by CREATE TABLE AS, and a dump fails to restore.
 */
static Datum
text_from_bytes(const char *bytes)
{
	int			encoding = GetDatabaseEncoding();
	int			left = strlen(bytes);
	StringInfoData text;

	if (pg_verifymbstr(bytes, left, true))
		return CStringGetTextDatum(bytes);

	initStringInfo(&text);
	while (left > 0)
	{
		int			length = pg_encoding_verifymbchar(encoding, bytes, left);

		if (length > 0)
			appendBinaryStringInfo(&text, bytes, length);
		else
		{
			appendStringInfo(&text, "\\x%02x", (unsigned char) *bytes);
			length = 1;
		}
		bytes += length;
		left -= length;
	}
	return CStringGetTextDatum(text.data);
}
