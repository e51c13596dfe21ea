/*-------------------------------------------------------------------------
 *
 * abi.h
 *	  The ABI that ties the pg_extension_base libraries together.
 *
 * Administrators put only pg_extension_base (the meta library) in
 * shared_preload_libraries.  In the postmaster, its _PG_init publishes a
 * PgExtensionBaseApi through the rendezvous variable PGEB_RENDEZVOUS_NAME and
 * then loads the components (deps, supervisor, attached, preloader) in that
 * order.  Each component attaches with pgeb_attach_component(), which refuses
 * to go on when the meta library is missing or speaks another ABI major
 * version, and registers itself in the module table.
 *
 * Our libraries never link against each other, and the components never
 * call one another: each calls only the meta library, through this function
 * table.  The first three fields of PgExtensionBaseApi are frozen forever so
 * that a component of any ABI version can read them and refuse cleanly;
 * everything after them may change with the ABI major version.
 *
 * The meta library also keeps a copy of the module table in shared memory
 * so that every process can report what the postmaster loaded
 * (extension_base.modules()); its layout is the meta library's own
 * (meta/meta.h), and meta/pg_extension_base.c has its lock protocol.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_ABI_H
#define PG_EXTENSION_BASE_ABI_H

#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"

/* "PGEB", at the start of the function table and of the shared memory */
#define PGEB_ABI_MAGIC			0x50474542

/*
 * Bump the major version for any incompatible change to the structures or
 * function table below; bump the minor version when only adding at the end.
 */
#define PGEB_ABI_MAJOR			3
#define PGEB_ABI_MINOR			0

/* Version of the libraries; the SQL scripts installed with them match it. */
#define PGEB_LIBRARY_VERSION	"1.0"

#define PGEB_RENDEZVOUS_NAME	"pg_extension_base_abi"
#define PGEB_META_LIBRARY		"pg_extension_base"

#define PGEB_PRELOAD_HINT \
	"Set shared_preload_libraries = 'pg_extension_base' in postgresql.conf and restart the server."

/*
 * What a control file says, as far as pg_extension_base cares.  Returned by
 * read_control_file in the caller's memory context.
 */
typedef struct PgebControlFile
{
	char	   *name;			/* extension name */
	char	   *path;			/* primary control file */
	char	   *directory;		/* directory holding the control file */
	char	   *script_directory;	/* where its SQL scripts are */
	char	   *default_version;
	char	   *module_pathname;	/* NULL when absent */
	List	   *requires;		/* extension names, as char * */
	bool		superuser;
	bool		trusted;
} PgebControlFile;

/*
 * Who a file is and how it was last changed, from fstatat(): a file
 * replaced, edited in place or appended to gets another identity.  All zero
 * when fstatat() failed.
 */
typedef struct PgebFileIdentity
{
	uint64		device;
	uint64		inode;
	int64		size;
	int64		mtime_ns;
	int64		ctime_ns;
} PgebFileIdentity;

/* A primary control file found by list_control_files. */
typedef struct PgebControlFileEntry
{
	char	   *name;			/* extension name */
	char	   *path;			/* full path of name.control */
	char	   *directory;		/* directory holding it */
	bool		read;			/* text and read_errno are set */
	char	   *text;			/* its contents, or NULL if unreadable */
	int			read_errno;		/* why it could not be read */
	List	   *secondary_versions; /* char *: name--version.control beside it */

	PgebFileIdentity identity;
} PgebControlFileEntry;

/*
 * How list_control_files may save work, each callback optional (a NULL
 * PgebListingCallbacks pointer reads everything).
 *
 * skip_read decides, from its identity, that a control file need not be read
 * now; parse_control_entry reads it later if it is needed.
 *
 * known_names returns the names of the control files a directory held when
 * it last had this identity (without ".control", primary and secondary,
 * sorted with strcmp), or NULL when they are not known; the directory is
 * then read.  The identity of a directory changes when a file is added,
 * removed or renamed in it; each primary file is still looked at (its
 * identity), so an edit in place is seen.  The names must stay valid until
 * list_control_files returns.
 *
 * listed_names is told, for every directory, its identity and the names
 * found in it (read, or given by known_names), to remember them.
 */
typedef bool (*PgebSkipReadFunction) (const PgebControlFileEntry *entry, void *arg);
typedef const char *const *(*PgebKnownNamesFunction) (const char *directory,
													  const PgebFileIdentity *identity,
													  int *count, void *arg);
typedef void (*PgebListedNamesFunction) (const char *directory,
										 const PgebFileIdentity *identity,
										 const char *const *names, int count,
										 void *arg);

typedef struct PgebListingCallbacks
{
	PgebSkipReadFunction skip_read;
	PgebKnownNamesFunction known_names;
	PgebListedNamesFunction listed_names;
	void	   *arg;
} PgebListingCallbacks;

/*
 * The function table published by the meta library.  Owned by the meta
 * library (a static in its data segment); valid in every process for the
 * life of the server.
 */
typedef struct PgExtensionBaseApi
{
	/* frozen: every ABI version starts with these three fields */
	uint32		magic;
	uint16		abi_major;
	uint16		abi_minor;

	/*
	 * Module table.  register_module is called by a component's _PG_init in
	 * the postmaster (pgeb_register_component) and returns its module id;
	 * module_initialized marks the end of that _PG_init.
	 */
	int			(*register_module) (const char *name, const char *library_version,
									uint16 abi_major, uint16 abi_minor);
	void		(*module_initialized) (int module_id);

	/*
	 * Control files: the one place that knows where they live (the share
	 * directory, and extension_control_path on PostgreSQL 18+).
	 *
	 * list_control_files reads every primary control file once and returns
	 * PgebControlFileEntry pointers, first directory wins, sorted by name;
	 * it records each file's identity and does not read what the callbacks
	 * (above) say is known.  parse_control_entry parses one of them from
	 * that text (reading it first if it was skipped), overlaid with the
	 * secondary control file of its default version.  read_control_file
	 * finds and reads the control file of one extension, overlaid with the
	 * secondary control file of version (or else of the default version).
	 * Both parsers return NULL after reporting at elevel when the file is
	 * missing or cannot be parsed.
	 */
	List	   *(*list_control_files) (const PgebListingCallbacks *callbacks);
	PgebControlFile *(*parse_control_entry) (PgebControlFileEntry *entry,
											 int elevel);
	PgebControlFile *(*read_control_file) (const char *extname,
										   const char *version, int elevel);

	/*
	 * Load a library as core loads shared_preload_libraries.  If that fails
	 * the error is raised with "context" added as a CONTEXT line.
	 */
	void		(*load_library) (const char *library, const char *context);

	/*
	 * The version of an extension installed in the current database, or
	 * NULL.  Needs a transaction.
	 */
	char	   *(*installed_extension_version) (const char *extname);
} PgExtensionBaseApi;

/*
 * Attach a component to the meta library.  Call at the top of the
 * component's _PG_init; returns the function table, or raises an ERROR that
 * names the problem (in the postmaster that stops the server, which is what
 * we want: a half-loaded pg_extension_base must not run).
 */
static inline const PgExtensionBaseApi *
pgeb_attach_component(const char *module_name)
{
	const PgExtensionBaseApi *api;
	int			needed_minor;

	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s can only be loaded by pg_extension_base at server start",
						module_name),
				 errhint(PGEB_PRELOAD_HINT)));

	api = (const PgExtensionBaseApi *) *find_rendezvous_variable(PGEB_RENDEZVOUS_NAME);
	if (api == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s must be loaded through pg_extension_base", module_name),
				 errdetail("The library is listed in shared_preload_libraries, but pg_extension_base is not loaded before it."),
				 errhint(PGEB_PRELOAD_HINT)));

	if (api->magic != PGEB_ABI_MAGIC)
		elog(ERROR, "rendezvous variable \"%s\" does not hold a pg_extension_base function table",
			 PGEB_RENDEZVOUS_NAME);

	/* same major, and the minor version (fields added at the end) we need */
	needed_minor = PGEB_ABI_MINOR;
	if (api->abi_major != PGEB_ABI_MAJOR || api->abi_minor < needed_minor)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s was built for pg_extension_base ABI version %d.%d, but the loaded pg_extension_base provides ABI version %d.%d",
						module_name, PGEB_ABI_MAJOR, PGEB_ABI_MINOR,
						api->abi_major, api->abi_minor),
				 errhint("Install the same release of every pg_extension_base library and restart the server.")));

	return api;
}

/*
 * Register a component in the module table; returns its module id, which
 * the component passes to module_initialized at the end of its _PG_init.
 */
static inline int
pgeb_register_component(const PgExtensionBaseApi *api, const char *module_name)
{
	return api->register_module(module_name, PGEB_LIBRARY_VERSION,
								PGEB_ABI_MAJOR, PGEB_ABI_MINOR);
}

/*
 * Raise a clear ERROR from a SQL-callable function when its module did not
 * initialise.  Defence in depth: PostgreSQL 15 does not keep a library whose
 * _PG_init failed, so on a server started without pg_extension_base every
 * call already fails in _PG_init with a hint; a function must not rely on
 * that to avoid dereferencing state it does not have.
 */
static inline void
pgeb_require_loaded(const void *api, const char *module_name)
{
	if (api == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is not loaded", module_name),
				 errdetail("The server was started without pg_extension_base in shared_preload_libraries."),
				 errhint(PGEB_PRELOAD_HINT)));
}

#endif							/* PG_EXTENSION_BASE_ABI_H */
