/*-------------------------------------------------------------------------
 *
 * pgeb_test_preload.c
 *	  A test library that records when it was loaded.
 *
 * Built under several names (TEST_LIBRARY_NAME).  Every copy appends its
 * name to one list, shared by all copies in a process through a rendezvous
 * variable, noting whether its _PG_init ran while the postmaster processed
 * shared_preload_libraries.  Children inherit the postmaster's list, so
 * pgeb_test_load_log() in any backend shows the order of the preloads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

#ifndef TEST_LIBRARY_NAME
#define TEST_LIBRARY_NAME "pgeb_test_preload"
#endif

/* One load; allocated in TopMemoryContext. */
typedef struct LoadRecord
{
	char	   *library;
	bool		at_server_start;
} LoadRecord;

void		_PG_init(void);

void
_PG_init(void)
{
	List	  **log = (List **) find_rendezvous_variable("pgeb_test_load_log");
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	LoadRecord *record = palloc(sizeof(LoadRecord));

	record->library = pstrdup(TEST_LIBRARY_NAME);
	record->at_server_start = process_shared_preload_libraries_in_progress;
	*log = lappend(*log, record);
	MemoryContextSwitchTo(old);

	ereport(LOG,
			(errmsg("pgeb_test: loaded %s%s", TEST_LIBRARY_NAME,
					process_shared_preload_libraries_in_progress ?
					" at server start" : "")));
}

PG_FUNCTION_INFO_V1(pgeb_test_load_log);

Datum
pgeb_test_load_log(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *log = *(List **) find_rendezvous_variable("pgeb_test_load_log");
	ListCell   *lc;
	int			position = 0;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, log)
	{
		LoadRecord *record = (LoadRecord *) lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = Int32GetDatum(++position);
		values[1] = CStringGetTextDatum(record->library);
		values[2] = BoolGetDatum(record->at_server_start);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
