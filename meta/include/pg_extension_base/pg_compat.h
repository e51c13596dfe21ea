/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  Newer servers' conveniences for extensions that build against several
 *	  PostgreSQL versions (15 and later).
 *
 * Header only.  What a server already has is left alone, so including this
 * file changes nothing on the server that introduced a name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_PG_COMPAT_H
#define PG_EXTENSION_BASE_PG_COMPAT_H

#include "catalog/pg_type_d.h"
#include "commands/copy.h"
#include "nodes/pg_list.h"
#include "utils/numeric.h"

/*
 * Loops over a List that declare their own loop variable, as PostgreSQL 17
 * has them in pg_list.h:
 *
 *	  foreach_ptr(char, name, names)
 *		  elog(LOG, "%s", name);
 *
 * The variable is the element itself, not a ListCell.  As with core's,
 * foreach_current_index(var) and foreach_delete_current(lst, var) work
 * inside the loop (they use the loop's state, var##__state).
 * foreach_xid needs a server whose lists hold transaction ids (16 and
 * later).
 */
#ifndef foreach_ptr

#define foreach_ptr(type, var, lst) \
	foreach_internal(type, *, var, lst, lfirst)
#define foreach_int(var, lst) \
	foreach_internal(int, , var, lst, lfirst_int)
#define foreach_oid(var, lst) \
	foreach_internal(Oid, , var, lst, lfirst_oid)
#define foreach_xid(var, lst) \
	foreach_internal(TransactionId, , var, lst, lfirst_xid)

/*
 * What the four expand to, under core's name (PostgreSQL 17 defines it
 * alongside them).  A for statement declares variables of one type only,
 * and the loop needs one of the element's type and a ForEachState: an
 * outer loop that runs once declares the former (with a flag that ends
 * it), the inner loop the latter.  Compilers remove the outer loop.  Not
 * for direct use.
 */
#ifndef foreach_internal
#define foreach_internal(type, pointer, var, lst, func) \
	for (type pointer var = 0, pointer var##__once = (type pointer) 1; \
		 var##__once != 0; \
		 var##__once = 0) \
		for (ForEachState var##__state = {(lst), 0}; \
			 var##__state.i < list_length(var##__state.l) && \
			 ((var = func(list_nth_cell(var##__state.l, var##__state.i))), true); \
			 var##__state.i++)
#endif

#endif							/* foreach_ptr */

/*
 * Whether COPY options ask for the binary or the CSV format: fields of
 * CopyFormatOptions (commands/copy.h) on PostgreSQL 15 to 18, through
 * these names so that callers need not change when the struct does.
 */
#ifndef CopyOptsIsBinary
#define CopyOptsIsBinary(opts) ((opts).binary)
#endif
#ifndef CopyOptsIsCsvMode
#define CopyOptsIsCsvMode(opts) ((opts).csv_mode)
#endif

#endif							/* PG_EXTENSION_BASE_PG_COMPAT_H */
