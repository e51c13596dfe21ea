/*-------------------------------------------------------------------------
 *
 * meta.h
 *	  Functions shared by the files of the meta library (pg_extension_base).
 *
 * Other libraries never include this file: they reach these functions
 * through the function table in pg_extension_base/abi.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_META_H
#define PG_EXTENSION_BASE_META_H

#include <sys/stat.h>

#include "pg_extension_base/abi.h"
#include "pg_extension_base/compat.h"

#define PGEB_MAX_MODULES		8
#define PGEB_VERSION_LEN		16

/*
 * One loaded module.  Lives in the meta library's process-local table (built
 * by the postmaster while it loads the libraries, inherited by every child)
 * and is copied into PgebSharedHeader when shared memory is created.
 */
typedef struct PgebModuleInfo
{
	char		name[NAMEDATALEN];
	char		library_version[PGEB_VERSION_LEN];
	uint16		abi_major;
	uint16		abi_minor;
	int			load_position;	/* 1 for the meta library, then in load order */
	bool		initialized;	/* its _PG_init ran to the end */
} PgebModuleInfo;

/*
 * The meta library's shared-memory region, named PGEB_META_LIBRARY.  Written
 * by the postmaster when it creates shared memory (also after a crash
 * restart), before any other process exists; read-only afterwards, so readers
 * take no lock.
 */
typedef struct PgebSharedHeader
{
	uint32		magic;
	uint16		abi_major;
	uint16		abi_minor;
	int			num_modules;
	PgebModuleInfo modules[PGEB_MAX_MODULES];
} PgebSharedHeader;

/* pg_extension_base.c */
extern const PgebSharedHeader *pgeb_shared_header(void);
extern void pgeb_load_library(const char *library, const char *context);

/* One *.control file seen by control_listing.c. */
typedef struct ListedFile
{
	char	   *name;			/* file name without ".control" */
	bool		secondary;		/* name--version.control */
	PgebFileIdentity identity;	/* of a primary file */
} ListedFile;

/* The control files of one directory, sorted by name. */
typedef struct ListedDirectory
{
	char	   *path;
	PgebFileIdentity identity;	/* of the directory itself */
	int			open_errno;		/* why opendir() failed, or 0 */
	int			read_errno;		/* why readdir() failed, or 0 */
	int			count;
	ListedFile *files;
} ListedDirectory;

/* Every control directory, in search order. */
typedef struct ControlListing
{
	int			count;
	ListedDirectory *directories;
} ControlListing;

/* control_listing.c */
extern ControlListing *control_listing_make(List *directories,
											const PgebListingCallbacks *callbacks);
extern void pgeb_identity_from_stat(PgebFileIdentity *identity,
									const struct stat *st);

/* control_file.c */
extern List *pgeb_control_directories(void);
extern List *pgeb_list_control_files(const PgebListingCallbacks *callbacks);
extern PgebControlFile *pgeb_parse_control_entry(PgebControlFileEntry *entry,
												 int elevel);
extern PgebControlFile *pgeb_read_control_file(const char *extname,
											   const char *version,
											   int elevel);

/* extension_catalog.c */
extern char *pgeb_installed_extension_version(const char *extname);

#endif							/* PG_EXTENSION_BASE_META_H */
