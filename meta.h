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

#include "pg_extension_base/abi.h"

/* pg_extension_base.c */
extern const PgebSharedHeader *pgeb_shared_header(void);
extern void pgeb_load_library(const char *library, const char *context);

/* control_file.c */
extern List *pgeb_list_control_files(PgebSkipReadFunction skip, void *skip_arg);
extern PgebControlFile *pgeb_parse_control_entry(PgebControlFileEntry *entry,
												 int elevel);
extern PgebControlFile *pgeb_read_control_file(const char *extname,
											   const char *version,
											   int elevel);
extern char *pgeb_installed_extension_version(const char *extname);

#endif							/* PG_EXTENSION_BASE_META_H */
