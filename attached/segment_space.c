/*-------------------------------------------------------------------------
 *
 * segment_space.c
 *	  Room in the main shared memory for the segments of attached workers.
 *
 * Every attached worker has a dynamic shared memory segment of its own
 * (see launch.c): about 70 kB, mostly its queue.  Made the default way,
 * each segment is a new POSIX shared memory object: the caller creates,
 * sizes and maps it, the worker maps it again, and both unmap it; the last
 * one removes it.  Measured with bench/run attached_latency, that is about
 * 5 % of a `run_attached('select 1')` and 10 % of a one-row INSERT.
 *
 * With min_dynamic_shared_memory, PostgreSQL reserves that much room in
 * the main shared memory at start and carves segments out of it, with the
 * same lifecycle (reference counts, on_dsm_detach callbacks), without a
 * system call; a segment that does not fit, or finds the room full, is
 * made the default way.  Core's default is 0, no room.  So, in the
 * postmaster, before shared memory is sized, we set a default of 256 kB
 * per max_worker_processes (whole MB, 1 to 64 MB): an attached worker needs
 * a worker process.  The room is shared, first come first served, with
 * every other user of dynamic shared memory (parallel queries, the
 * statistics' overflow segments, other extensions).
 *
 * It is a default, not an override: we set it with the source core uses
 * for settings it computes at start (PGC_S_DYNAMIC_DEFAULT, as for
 * wal_buffers), which any setting of the administrator's outranks:
 * postgresql.conf, ALTER SYSTEM, the command line, even an explicit 0.
 * Another library that set a larger default keeps it: we only raise.
 * (postgres -C min_dynamic_shared_memory does not load libraries, so it
 * shows core's value; SHOW, and postgres -C shared_memory_size, are right.)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/dsm_impl.h"
#include "utils/guc.h"

#include "attached.h"

/* room per worker process: a few attached workers' segments */
#define SEGMENT_SPACE_PER_WORKER_KB	256
#define SEGMENT_SPACE_MIN_MB			1
#define SEGMENT_SPACE_MAX_MB			64

void
pgeb_attached_reserve_segment_space(void)
{
	int			megabytes;
	char		value[32];

	Assert(process_shared_preload_libraries_in_progress);

	megabytes = (max_worker_processes * SEGMENT_SPACE_PER_WORKER_KB + 1023)
		/ 1024;
	megabytes = Max(megabytes, SEGMENT_SPACE_MIN_MB);
	megabytes = Min(megabytes, SEGMENT_SPACE_MAX_MB);
	if (min_dynamic_shared_memory >= megabytes)
		return;
	snprintf(value, sizeof(value), "%dMB", megabytes);

	/* does nothing when the administrator set it (a higher source) */
	SetConfigOption("min_dynamic_shared_memory", value,
					PGC_POSTMASTER, PGC_S_DYNAMIC_DEFAULT);
}
