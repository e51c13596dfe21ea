/*-------------------------------------------------------------------------
 *
 * pg_extension_base.c
 *	  The meta library: the only entry administrators put in
 *	  shared_preload_libraries.
 *
 * In the postmaster, _PG_init publishes the function table of abi.h, then
 * loads the components in a fixed order:
 *
 *	 1. pg_extension_base (this library)
 *	 2. pg_extension_base_deps: its ProcessUtility hook must be installed
 *		before any third-party library is loaded, so hook chains are right;
 *	 3. pg_extension_base_supervisor;
 *	 4. pg_extension_base_attached;
 *	 5. pg_extension_base_preloader, last, because the libraries it loads may
 *		call into the components.
 *
 * Each component attaches through pgeb_attach_component() and registers in
 * the module table kept here.
 *
 * Lock protocol.  The module table is process-local: it is written only by
 * the postmaster while it loads the libraries, before any other process
 * exists, and children inherit it.  Its shared-memory copy (PgebSharedHeader,
 * named "pg_extension_base") is written by the postmaster's shmem_startup
 * hook, again before any child exists and again after each crash restart,
 * under AddinShmemInitLock as every ShmemInitStruct caller does.  Nobody
 * writes either afterwards, so readers take no lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"
#include "pg_extension_base/pg_extension_base_ids.h"
#include "meta.h"

PGEB_MODULE_MAGIC(PGEB_META_LIBRARY);

/* The components, in load order; see the file header for why this order. */
static const char *const component_libraries[] = {
	"pg_extension_base_deps",
	"pg_extension_base_supervisor",
	"pg_extension_base_attached",
	"pg_extension_base_preloader",
};

/* The module table; see the lock protocol above. */
static PgebModuleInfo modules[PGEB_MAX_MODULES];
static int	num_modules = 0;

static PgebSharedHeader *shared_header = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static int	register_module(const char *name, const char *library_version,
							uint16 abi_major, uint16 abi_minor);
static void module_initialized(int module_id);
static int	find_module(const char *name);
static void load_component(const char *library);
static void meta_shmem_request(void);
static void meta_shmem_startup(void);

/* The function table of abi.h; lives as long as the server. */
static const PgExtensionBaseApi api = {
	.magic = PGEB_ABI_MAGIC,
	.abi_major = PGEB_ABI_MAJOR,
	.abi_minor = PGEB_ABI_MINOR,
	.register_module = register_module,
	.module_initialized = module_initialized,
	.list_control_files = pgeb_list_control_files,
	.parse_control_entry = pgeb_parse_control_entry,
	.read_control_file = pgeb_read_control_file,
	.load_library = pgeb_load_library,
	.installed_extension_version = pgeb_installed_extension_version,
};

void		_PG_init(void);

/*
 * Runs in the postmaster while it processes shared_preload_libraries.
 * Anything that goes wrong here is an ERROR, which stops the server with
 * that message: a partly loaded pg_extension_base must not run.
 */
void
_PG_init(void)
{
	int			self;
	int			i;

	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_extension_base must be loaded via shared_preload_libraries"),
				 errhint(PGEB_PRELOAD_HINT)));

	*find_rendezvous_variable(PGEB_RENDEZVOUS_NAME) = (void *) &api;
	self = register_module(PGEB_META_LIBRARY, PGEB_LIBRARY_VERSION,
						   PGEB_ABI_MAJOR, PGEB_ABI_MINOR);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = meta_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = meta_shmem_startup;

	/*
	 * Extension-id caches (extension_ids.h) of any process are invalidated
	 * by the extension DDL of every other: installed here, in the postmaster,
	 * the hooks that tell are in every process, not only in those that
	 * happen to cache.
	 */
	InitializePgExtensionBaseCache();

	for (i = 0; i < (int) lengthof(component_libraries); i++)
		load_component(component_libraries[i]);

	/* every module has defined its settings by now */
	MarkGUCPrefixReserved("pg_extension_base");

	module_initialized(self);
}

/*
 * Load one component and check that it registered itself: a library of the
 * right name that does not is not one of ours.
 */
static void
load_component(const char *library)
{
	int			i;

	pgeb_load_library(library,
					  psprintf("while pg_extension_base was loading its component \"%s\"",
							   library));

	i = find_module(library);
	if (i < 0 || !modules[i].initialized)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("library \"%s\" did not register with pg_extension_base", library),
				 errhint("Reinstall pg_extension_base.")));
}

/*
 * Load a library as core loads shared_preload_libraries; if that fails, the
 * error carries "context" as an extra CONTEXT line.  (An error context
 * callback would add the line to every message the library logs while it
 * initialises, too.)
 */
void
pgeb_load_library(const char *library, const char *context)
{
	MemoryContext caller_context = CurrentMemoryContext;

	PG_TRY();
	{
		load_file(library, false);
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(caller_context);
		error = CopyErrorData();
		FlushErrorState();
		error->context = error->context ?
			psprintf("%s\n%s", error->context, context) : pstrdup(context);
		ReThrowError(error);
	}
	PG_END_TRY();
}

/*
 * Add a module to the table; returns its id.  Called in the postmaster by
 * each component's _PG_init (through the function table) and by ours.
 */
static int
register_module(const char *name, const char *library_version,
				uint16 abi_major, uint16 abi_minor)
{
	PgebModuleInfo *module;

	if (!process_shared_preload_libraries_in_progress)
		elog(ERROR, "pg_extension_base modules can only register at server start");

	if (abi_major != PGEB_ABI_MAJOR)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s was built for pg_extension_base ABI version %d.%d, but the loaded pg_extension_base provides ABI version %d.%d",
						name, abi_major, abi_minor, PGEB_ABI_MAJOR, PGEB_ABI_MINOR),
				 errhint("Install the same release of every pg_extension_base library and restart the server.")));

	if (find_module(name) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pg_extension_base module \"%s\" was loaded twice", name),
				 errhint("Check shared_preload_libraries and the #!shared_preload_libraries lines of control files.")));
	if (num_modules >= PGEB_MAX_MODULES)
		elog(ERROR, "too many pg_extension_base modules (at most %d)", PGEB_MAX_MODULES);

	module = &modules[num_modules];
	strlcpy(module->name, name, sizeof(module->name));
	strlcpy(module->library_version, library_version, sizeof(module->library_version));
	module->abi_major = abi_major;
	module->abi_minor = abi_minor;
	module->load_position = num_modules + 1;
	module->initialized = false;

	return num_modules++;
}

static void
module_initialized(int module_id)
{
	if (module_id < 0 || module_id >= num_modules)
		elog(ERROR, "invalid pg_extension_base module id %d", module_id);
	modules[module_id].initialized = true;
}

/* Index of a module in the table, or -1. */
static int
find_module(const char *name)
{
	int			i;

	for (i = 0; i < num_modules; i++)
	{
		if (strcmp(modules[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* The shared copy of the module table, or NULL before shared memory exists. */
const PgebSharedHeader *
pgeb_shared_header(void)
{
	return shared_header;
}

static void
meta_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(PgebSharedHeader)));
}

static void
meta_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared_header = ShmemInitStruct(PGEB_META_LIBRARY, sizeof(PgebSharedHeader), &found);
	if (!found)
	{
		shared_header->magic = PGEB_ABI_MAGIC;
		shared_header->abi_major = PGEB_ABI_MAJOR;
		shared_header->abi_minor = PGEB_ABI_MINOR;
		shared_header->num_modules = num_modules;
		memcpy(shared_header->modules, modules, sizeof(modules));
	}
	LWLockRelease(AddinShmemInitLock);
}
