/*-------------------------------------------------------------------------
 *
 * pgeb_test_original.c
 *	  An extension written against the original pg_extension_base's public
 *	  API only, built against our installed headers: every header of that
 *	  API, its macros and functions, as its users call them.
 *
 * _PG_init (in the postmaster when t/032_original_api.pl preloads the
 * library) makes the extension-ids caches of pgeb_test_original_target
 * (with a clear function) and of this extension, initialises
 * pg_extension_base's own and the dependency installer (both twice), and
 * notes what it saw.  The SQL functions show what each call does:
 *
 *	preload_facts		what _PG_init saw
 *	target_ids, target_extension_id, ensure_target, base_ids
 *		IsExtensionCreated, ExtensionId, ExtensionSchemaId, ExtensionOwnerId,
 *		EnsureExtensionExists, PgExtensionBase, and a value derived from the
 *		cache that the clear function forgets
 *	record_during_script
 *		IsExtensionCreated during an extension's own scripts (SPI_START,
 *		DECLARE_SPI_ARGS, SPI_ARG_VALUE, SPI_EXECUTE, SPI_END)
 *	spi_echo			every DATUMIZE_ and DEDATUMIZE_ type through a query
 *	spi_tracking		the settings SPI_START turns off, and the caller's
 *						search_path, inside SPI_START
 *	owner_context		SPI_START_EXTENSION_OWNER, ALLOW_TEMP_OBJECTS_BEGIN/END
 *						and BEGIN/END_EXTENSION_OWNER_CONTEXT
 *	control_directories, control_filename, is_control_filename, requires_of
 *						extension_control_file.h, through foreach_ptr
 *	foreach_demo		foreach_oid and foreach_int (foreach_xid where lists
 *						hold transaction ids)
 *	deps_settings		extension_dependencies.h's variables
 *	worker_main			a base worker written the original's way: it returns
 *						BASE_WORKER_RESTART_IMMEDIATELY or BASE_WORKER_NO_RESTART,
 *						with SPI macros between START_TRANSACTION and
 *						END_TRANSACTION
 *	deregister_worker, wakeup_worker, launcher_enabled
 *						DeregisterBaseWorker[ById] (their results),
 *						WakeupBaseWorker, EnableBaseWorkerLauncher
 *	worker_settings		base_workers.h's settings variables and defaults
 *	attached_rows		an attached worker's rows read with a NULL descriptor
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "pg_extension_base/attached_worker.h"
#include "pg_extension_base/base_workers.h"
#include "pg_extension_base/extension_control_file.h"
#include "pg_extension_base/extension_dependencies.h"
#include "pg_extension_base/extension_ids.h"
#include "pg_extension_base/pg_compat.h"
#include "pg_extension_base/pg_extension_base_ids.h"
#include "pg_extension_base/spi_helpers.h"

PG_MODULE_MAGIC;

#define SELF_NAME		"pgeb_test_original"
#define TARGET_NAME		"pgeb_test_original_target"

/* how long a restarting worker waits before it returns */
#define WORKER_RUN_MS	100
/* runs after which it stops returning (and restarting) */
#define WORKER_RUNS		3

/*
 * What this library derives from the target's cache and keeps itself: the
 * name of the target's schema.  The clear function forgets it; the
 * counters show how often that happened and how often it was looked up.
 */
typedef struct TargetIds
{
	bool		schemaNameKnown;
	NameData	schemaName;
	int64		clears;
	int64		lookups;
} TargetIds;

static CachedExtensionIds *Target = NULL;
static CachedExtensionIds *Self = NULL;
static TargetIds TargetCache;

/* what _PG_init saw */
static bool loaded_at_preload = false;
static bool created_at_init = false;
static bool base_cache_stable = false;

void		_PG_init(void);
static void clear_target_ids(void *context);
static Datum text_array(List *strings);
static void appendArrayText(StringInfo buf, ArrayType *array);
static char *subtransaction_error(const char *sql, MemoryContext result_context);
static void record_worker_run(int32 workerId, bool createdOutside,
							  int64 *runs);

void
_PG_init(void)
{
	CachedExtensionIds *before;

	loaded_at_preload = process_shared_preload_libraries_in_progress;

	Target = CreateExtensionIdsCache(TARGET_NAME, clear_target_ids, &TargetCache);
	Self = CreateExtensionIdsCache(SELF_NAME, NULL, NULL);

	InitializePgExtensionBaseCache();
	before = PgExtensionBase;
	InitializePgExtensionBaseCache();
	base_cache_stable = PgExtensionBase != NULL && PgExtensionBase == before;

	/* in the postmaster there is no transaction to look anything up in */
	created_at_init = IsExtensionCreated(PgExtensionBase) ||
		IsExtensionCreated(Target) || IsExtensionCreated(Self);

	InitializeExtensionDependencyInstaller();
	InitializeExtensionDependencyInstaller();
}

/* The cache forgot the target: so do we. */
static void
clear_target_ids(void *context)
{
	TargetIds  *ids = (TargetIds *) context;

	ids->schemaNameKnown = false;
	ids->clears++;
}

PG_FUNCTION_INFO_V1(pgeb_test_original_preload_facts);

Datum
pgeb_test_original_preload_facts(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = BoolGetDatum(loaded_at_preload);
	values[1] = BoolGetDatum(created_at_init);
	values[2] = BoolGetDatum(base_cache_stable);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_target_ids);

/*
 * created, extension_id, schema_id, owner_id, schema_name (derived, kept
 * until the clear function runs), clears, lookups
 */
Datum
pgeb_test_original_target_ids(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7] = {false, true, true, true, true, false, false};
	bool		created = IsExtensionCreated(Target);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	values[0] = BoolGetDatum(created);
	if (created)
	{
		if (!TargetCache.schemaNameKnown)
		{
			namestrcpy(&TargetCache.schemaName,
					   get_namespace_name(ExtensionSchemaId(Target)));
			TargetCache.schemaNameKnown = true;
			TargetCache.lookups++;
		}
		values[1] = ObjectIdGetDatum(ExtensionId(Target));
		values[2] = ObjectIdGetDatum(ExtensionSchemaId(Target));
		values[3] = ObjectIdGetDatum(ExtensionOwnerId(Target));
		values[4] = NameGetDatum(&TargetCache.schemaName);
		nulls[1] = nulls[2] = nulls[3] = nulls[4] = false;
	}
	values[5] = Int64GetDatum(TargetCache.clears);
	values[6] = Int64GetDatum(TargetCache.lookups);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_target_extension_id);

Datum
pgeb_test_original_target_extension_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_OID(ExtensionId(Target));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_ensure_target);

Datum
pgeb_test_original_ensure_target(PG_FUNCTION_ARGS)
{
	EnsureExtensionExists(Target);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pgeb_test_original_base_ids);

/* created, extension_id, schema_id, owner_id of pg_extension_base */
Datum
pgeb_test_original_base_ids(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, true, true, true};
	bool		created = IsExtensionCreated(PgExtensionBase);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	values[0] = BoolGetDatum(created);
	if (created)
	{
		values[1] = ObjectIdGetDatum(ExtensionId(PgExtensionBase));
		values[2] = ObjectIdGetDatum(ExtensionSchemaId(PgExtensionBase));
		values[3] = ObjectIdGetDatum(ExtensionOwnerId(PgExtensionBase));
		nulls[1] = nulls[2] = nulls[3] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_record_during_script);

/*
 * Called from the scripts of this extension and of the target: what
 * IsExtensionCreated says then, and the target's ExtensionId (which works
 * while its own script runs), into pgeb_test_original.script_log.
 */
Datum
pgeb_test_original_record_during_script(PG_FUNCTION_ARGS)
{
	char	   *phase = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		selfCreated = IsExtensionCreated(Self);
	bool		targetCreated = IsExtensionCreated(Target);
	bool		targetNamed = strncmp(phase, "target", strlen("target")) == 0;
	Oid			targetId = targetNamed ? ExtensionId(Target) : InvalidOid;

	SPI_START();
	{
		DECLARE_SPI_ARGS(4);

		SPI_ARG_VALUE(1, TEXTOID, phase, false);
		SPI_ARG_VALUE(2, BOOLOID, selfCreated, false);
		SPI_ARG_VALUE(3, BOOLOID, targetCreated, false);
		SPI_ARG_VALUE(4, OIDOID, targetId, !targetNamed);
		SPI_EXECUTE("INSERT INTO pgeb_test_original.script_log "
					"(phase, self_created, target_created, target_id) "
					"VALUES ($1, $2, $3, $4)", false);
	}
	SPI_END();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pgeb_test_original_spi_echo);

/*
 * A value of every type the macros know, passed as $1 to $22, and a null
 * as $23, to "SELECT $1, ..., $23, <their text forms>, $23 IS NULL".
 * sql_saw is the text forms the query made of the arguments, c_read what
 * GET_SPI_VALUE gives for each column, formatted here; null_is_null says
 * the query saw a null and GET_SPI_VALUE said so, null_pointer that it
 * gave a NULL pointer for it instead of converting.
 */
Datum
pgeb_test_original_spi_echo(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	MemoryContext callerContext = CurrentMemoryContext;
	bytea	   *bytes = (bytea *) palloc(VARHDRSZ + 3);
	NameData	name;
	Jsonb	   *jsonb;
	Datum		texts[2];
	Datum		byteas[2];
	Datum		shorts[2] = {Int16GetDatum(-2), Int16GetDatum(7)};
	Datum		ints[3] = {Int32GetDatum(1), Int32GetDatum(-20), Int32GetDatum(300)};
	Datum		longs[2] = {Int64GetDatum(INT64CONST(-9000000000)), Int64GetDatum(42)};
	Datum		floats[2] = {Float4GetDatum(0.5f), Float4GetDatum(-1.25f)};
	Datum		doubles[2] = {Float8GetDatum(3.75), Float8GetDatum(-0.125)};
	ArrayType  *textArray;
	ArrayType  *shortArray;
	ArrayType  *intArray;
	ArrayType  *longArray;
	ArrayType  *floatArray;
	ArrayType  *doubleArray;
	ArrayType  *byteaArray;
	char	   *sawText = NULL;
	char	   *readText = NULL;
	bool		nullIsNull = false;
	bool		nullPointer = false;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SET_VARSIZE(bytes, VARHDRSZ + 3);
	memcpy(VARDATA(bytes), "\001\377A", 3);
	namestrcpy(&name, "a name");
	jsonb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
											   CStringGetDatum("{\"b\": [1, 2], \"a\": null}")));
	texts[0] = CStringGetTextDatum("one");
	texts[1] = CStringGetTextDatum("two words");
	byteas[0] = byteas[1] = PointerGetDatum(bytes);
	textArray = construct_array(texts, 2, TEXTOID, -1, false, TYPALIGN_INT);
	shortArray = construct_array(shorts, 2, INT2OID, 2, true, TYPALIGN_SHORT);
	intArray = construct_array(ints, 3, INT4OID, 4, true, TYPALIGN_INT);
	longArray = construct_array(longs, 2, INT8OID, 8, FLOAT8PASSBYVAL,
								TYPALIGN_DOUBLE);
	floatArray = construct_array(floats, 2, FLOAT4OID, 4, true, TYPALIGN_INT);
	doubleArray = construct_array(doubles, 2, FLOAT8OID, 8, FLOAT8PASSBYVAL,
								  TYPALIGN_DOUBLE);
	byteaArray = construct_array(byteas, 2, BYTEAOID, -1, false, TYPALIGN_INT);

	{
		SPI_START();
		{
			DECLARE_SPI_ARGS(23);
			bool		isNull;
			StringInfoData read;
			bytea	   *readBytes;
			XLogRecPtr	lsn;
			int			i;

			SPI_ARG_VALUE(1, TEXTOID, "some text", false);
			SPI_ARG_VALUE(2, CHAROID, 'x', false);
			SPI_ARG_VALUE(3, BOOLOID, true, false);
			SPI_ARG_VALUE(4, OIDOID, (Oid) 4000000000U, false);
			SPI_ARG_VALUE(5, INT2OID, (int16) -32768, false);
			SPI_ARG_VALUE(6, INT4OID, (int32) 2147483647, false);
			SPI_ARG_VALUE(7, INT8OID, INT64CONST(-9223372036854775807), false);
			SPI_ARG_VALUE(8, FLOAT4OID, 1.5f, false);
			SPI_ARG_VALUE(9, FLOAT8OID, -2.25, false);
			/* 2000-01-01 00:00:01 UTC: TimestampTz's epoch plus a second */
			SPI_ARG_VALUE(10, TIMESTAMPTZOID, (TimestampTz) 1000000, false);
			SPI_ARG_VALUE(11, JSONOID, "{\"k\": [true]}", false);
			SPI_ARG_VALUE(12, JSONBOID, jsonb, false);
			SPI_ARG_VALUE(13, BYTEAOID, bytes, false);
			SPI_ARG_VALUE(14, LSNOID, (XLogRecPtr) UINT64CONST(0x100000ABC), false);
			SPI_ARG_VALUE(15, NAMEOID, &name, false);
			SPI_ARG_VALUE(16, TEXTARRAYOID, textArray, false);
			SPI_ARG_VALUE(17, INT2ARRAYOID, shortArray, false);
			SPI_ARG_VALUE(18, INT4ARRAYOID, intArray, false);
			SPI_ARG_VALUE(19, INT8ARRAYOID, longArray, false);
			SPI_ARG_VALUE(20, FLOAT4ARRAYOID, floatArray, false);
			SPI_ARG_VALUE(21, FLOAT8ARRAYOID, doubleArray, false);
			/* the generic form, then the null that replaces it */
			SPI_ARG_DATUM(22, BYTEAARRAYOID, DATUMIZE(BYTEAARRAYOID, byteaArray));
			SPI_ARG_DATUM(23, TEXTOID, DATUMIZE(TEXTOID, "replaced"));
			SPI_ARG_VALUE(23, TEXTOID, (char *) NULL, true);

			SPI_EXECUTE("SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
						"$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, "
						"concat_ws(' | ', $1, $2, $3, $4, $5, $6, $7, $8, $9, "
						"$10 AT TIME ZONE 'UTC', $11, $12, $13, $14, $15, $16, $17, "
						"$18, $19, $20, $21, $22), $23 IS NULL", true);

			initStringInfo(&read);
			appendStringInfo(&read, "%s | %c | %s | %u | %d | %d | " INT64_FORMAT
							 " | %g | %g | " INT64_FORMAT " | %s",
							 GET_SPI_VALUE(TEXTOID, 0, 1, &isNull),
							 GET_SPI_VALUE(CHAROID, 0, 2, &isNull),
							 GET_SPI_VALUE(BOOLOID, 0, 3, &isNull) ? "t" : "f",
							 GET_SPI_VALUE(OIDOID, 0, 4, &isNull),
							 GET_SPI_VALUE(INT2OID, 0, 5, &isNull),
							 GET_SPI_VALUE(INT4OID, 0, 6, &isNull),
							 GET_SPI_VALUE(INT8OID, 0, 7, &isNull),
							 (double) GET_SPI_VALUE(FLOAT4OID, 0, 8, &isNull),
							 GET_SPI_VALUE(FLOAT8OID, 0, 9, &isNull),
							 GET_SPI_VALUE(TIMESTAMPTZOID, 0, 10, &isNull),
							 GET_SPI_VALUE(JSONOID, 0, 11, &isNull));
			appendStringInfo(&read, " | %s",
							 JsonbToCString(NULL,
											&GET_SPI_VALUE(JSONBOID, 0, 12, &isNull)->root,
											0));
			readBytes = GET_SPI_VALUE(BYTEAOID, 0, 13, &isNull);
			appendStringInfoString(&read, " | \\x");
			for (i = 0; i < (int) (VARSIZE(readBytes) - VARHDRSZ); i++)
				appendStringInfo(&read, "%02x", (unsigned char) VARDATA(readBytes)[i]);
			lsn = GET_SPI_VALUE(LSNOID, 0, 14, &isNull);
			appendStringInfo(&read, " | %X/%X", (uint32) (lsn >> 32), (uint32) lsn);
			appendStringInfo(&read, " | %s",
							 NameStr(*GET_SPI_VALUE(NAMEOID, 0, 15, &isNull)));
			appendArrayText(&read, GET_SPI_VALUE(TEXTARRAYOID, 0, 16, &isNull));
			appendArrayText(&read, GET_SPI_VALUE(INT2ARRAYOID, 0, 17, &isNull));
			appendArrayText(&read, GET_SPI_VALUE(INT4ARRAYOID, 0, 18, &isNull));
			appendArrayText(&read, GET_SPI_VALUE(INT8ARRAYOID, 0, 19, &isNull));
			appendArrayText(&read, GET_SPI_VALUE(FLOAT4ARRAYOID, 0, 20, &isNull));
			appendArrayText(&read, GET_SPI_VALUE(FLOAT8ARRAYOID, 0, 21, &isNull));
			/* the generic form */
			appendArrayText(&read, DEDATUMIZE(BYTEAARRAYOID, GET_SPI_DATUM(0, 22, &isNull)));

			nullPointer = GET_SPI_VALUE(TEXTOID, 0, 23, &isNull) == NULL;
			nullIsNull = isNull && GET_SPI_VALUE(BOOLOID, 0, 25, &isNull);

			/* SPI_END frees the result */
			sawText = MemoryContextStrdup(callerContext,
										  GET_SPI_VALUE(TEXTOID, 0, 24, &isNull));
			readText = MemoryContextStrdup(callerContext, read.data);
		}
		SPI_END();
	}

	values[0] = CStringGetTextDatum(sawText);
	values[1] = CStringGetTextDatum(readText);
	values[2] = BoolGetDatum(nullIsNull);
	values[3] = BoolGetDatum(nullPointer);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* " | " and an array's text form, through array_out */
static void
appendArrayText(StringInfo buf, ArrayType *array)
{
	appendStringInfo(buf, " | %s",
					 OidOutputFunctionCall(F_ARRAY_OUT, PointerGetDatum(array)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_spi_tracking);

/*
 * Inside SPI_START, as the caller: the three tracking settings (NULL when
 * not defined), the search_path, what an unqualified upper('x') resolves
 * to, and the current user.  SPI_END restores the settings.
 */
Datum
pgeb_test_original_spi_tracking(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6];
	char	   *texts[6];
	MemoryContext callerContext = CurrentMemoryContext;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	{
		SPI_START();
		{
			DECLARE_SPI_ARGS(1);

			SPI_ARG_VALUE(1, TEXTOID, "x", false);
			SPI_EXECUTE("SELECT current_setting('auto_explain.log_min_duration', true), "
						"current_setting('pg_stat_statements.track', true), "
						"current_setting('pgaudit.log', true), "
						"current_setting('search_path'), upper($1), "
						"current_user::text", true);
			for (i = 0; i < 6; i++)
			{
				char	   *value = GET_SPI_VALUE(TEXTOID, 0, i + 1, &nulls[i]);

				texts[i] = nulls[i] ? NULL : MemoryContextStrdup(callerContext, value);
			}
		}
		SPI_END();
	}

	for (i = 0; i < 6; i++)
		values[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(texts[i]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_owner_context);

/*
 * As the owner of this extension: through SPI (current_user, search_path,
 * upper('x'), whether the operation is restricted, the error of a CREATE
 * TEMP TABLE, and whether one was created between ALLOW_TEMP_OBJECTS_BEGIN
 * and _END), then without SPI (the user, search_path and restriction
 * inside BEGIN_EXTENSION_OWNER_CONTEXT), then the user and search_path
 * after both.
 */
Datum
pgeb_test_original_owner_context(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[11];
	bool		nulls[11] = {false};
	MemoryContext callerContext = CurrentMemoryContext;
	char	   *spiUser = NULL;
	char	   *spiSearchPath = NULL;
	char	   *spiUpper = NULL;
	char	   *tempError = NULL;
	bool		spiRestricted = false;
	bool		tempCreated = false;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	{
		SPI_START_EXTENSION_OWNER(Self);
		{
			DECLARE_SPI_ARGS(1);
			bool		isNull;

			SPI_ARG_VALUE(1, TEXTOID, "x", false);
			SPI_EXECUTE("SELECT current_user, current_setting('search_path'), upper($1)",
						true);
			spiUser = MemoryContextStrdup(callerContext,
										  NameStr(*GET_SPI_VALUE(NAMEOID, 0, 1, &isNull)));
			spiSearchPath = MemoryContextStrdup(callerContext,
												GET_SPI_VALUE(TEXTOID, 0, 2, &isNull));
			spiUpper = MemoryContextStrdup(callerContext,
										   GET_SPI_VALUE(TEXTOID, 0, 3, &isNull));
			spiRestricted = InSecurityRestrictedOperation();
			tempError = subtransaction_error("CREATE TEMP TABLE pgeb_original_refused (x int)",
											 callerContext);
		}
		{
			ALLOW_TEMP_OBJECTS_BEGIN();
			tempCreated =
				SPI_execute("CREATE TEMP TABLE IF NOT EXISTS pgeb_original_allowed (x int)",
							false, 0) == SPI_OK_UTILITY;
			ALLOW_TEMP_OBJECTS_END();
		}
		SPI_END();
	}

	values[0] = CStringGetTextDatum(spiUser);
	values[1] = CStringGetTextDatum(spiSearchPath);
	values[2] = CStringGetTextDatum(spiUpper);
	values[3] = BoolGetDatum(spiRestricted);
	if (tempError != NULL)
		values[4] = CStringGetTextDatum(tempError);
	else
		nulls[4] = true;
	values[5] = BoolGetDatum(tempCreated);

	{
		BEGIN_EXTENSION_OWNER_CONTEXT(Self);
		values[6] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
		values[7] = CStringGetTextDatum(GetConfigOption("search_path", false, false));
		values[8] = BoolGetDatum(InSecurityRestrictedOperation());
		END_EXTENSION_OWNER_CONTEXT();
	}

	values[9] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[10] = CStringGetTextDatum(GetConfigOption("search_path", false, false));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * Run a statement through SPI in a subtransaction: NULL when it succeeds,
 * else its error message (in result_context).  The subtransaction's abort
 * restores the user, security context and SPI state it started with.
 */
static char *
subtransaction_error(const char *sql, MemoryContext result_context)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *volatile message = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		(void) SPI_execute(sql, false, 0);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(result_context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		message = error->message;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	return message;
}

/* A text[] of a List of C strings, through foreach_ptr. */
static Datum
text_array(List *strings)
{
	Datum	   *elements = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	int			count = 0;

	foreach_ptr(char, string, strings)
		elements[count++] = CStringGetTextDatum(string);
	return PointerGetDatum(construct_array(elements, count, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_control_directories);

Datum
pgeb_test_original_control_directories(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(text_array(GetExtensionControlDirectories()));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_control_filename);

Datum
pgeb_test_original_control_filename(PG_FUNCTION_ARGS)
{
	char	   *path = GetExtensionControlFilename(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (path == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(path));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_is_control_filename);

Datum
pgeb_test_original_is_control_filename(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsExtensionControlFilename(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_requires_of);

Datum
pgeb_test_original_requires_of(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(text_array(GetExtensionDependencyList(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_foreach_demo);

/*
 * "oids: <pg_extension_base's oid, schema, owner>; ints: <sum>; index:
 * <foreach_current_index at the last element>", and the current
 * transaction id where lists hold transaction ids.
 */
Datum
pgeb_test_original_foreach_demo(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	List	   *oids = NIL;
	List	   *ints = NIL;
	int			sum = 0;
	int			lastIndex = -1;

	oids = lappend_oid(oids, ExtensionId(PgExtensionBase));
	oids = lappend_oid(oids, ExtensionSchemaId(PgExtensionBase));
	oids = lappend_oid(oids, ExtensionOwnerId(PgExtensionBase));
	ints = lappend_int(ints, 1);
	ints = lappend_int(ints, 20);
	ints = lappend_int(ints, 300);
	ints = lappend_int(ints, 4000);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "oids:");
	foreach_oid(oid, oids)
		appendStringInfo(&buf, " %u", oid);
	foreach_int(value, ints)
	{
		sum += value;
		lastIndex = foreach_current_index(value);
	}
	appendStringInfo(&buf, "; ints: %d; index: %d", sum, lastIndex);
#ifdef lfirst_xid
	{
		List	   *xids = lappend_xid(NIL, GetTopTransactionId());

		foreach_xid(xid, xids)
			appendStringInfo(&buf, "; xid: %u", xid);
	}
#endif
	PG_RETURN_TEXT_P(cstring_to_text(buf.data));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_deps_settings);

/* create, update, escalation role (NULL when the variable is) */
Datum
pgeb_test_original_deps_settings(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = BoolGetDatum(EnableExtensionDependencyCreate);
	values[1] = BoolGetDatum(EnableExtensionDependencyUpdate);
	if (DependencyEscalationRoleName != NULL)
		values[2] = CStringGetTextDatum(DependencyEscalationRoleName);
	else
		nulls[2] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_worker_main);

/*
 * The base workers "original_again" and "original_once": each start is a
 * run, recorded in pgeb_test_original.worker_runs.  original_once then
 * returns BASE_WORKER_NO_RESTART; original_again returns
 * BASE_WORKER_RESTART_IMMEDIATELY after a short wait, until it has run
 * WORKER_RUNS times, and then waits for its end.
 */
Datum
pgeb_test_original_worker_main(PG_FUNCTION_ARGS)
{
	int32		workerId = PG_GETARG_INT32(0);
	const char *workerName = GetConfigOption("application_name", false, false);
	/* no transaction yet: must be false */
	bool		createdOutside = IsExtensionCreated(Self);
	int64		runs = 0;

	record_worker_run(workerId, createdOutside, &runs);

	if (strcmp(workerName, "original_once") == 0)
		return BASE_WORKER_NO_RESTART;

	if (runs < WORKER_RUNS)
	{
		LightSleep(WORKER_RUN_MS);
		return BASE_WORKER_RESTART_IMMEDIATELY;
	}
	while (!TerminationRequested)
		LightSleep(1000);
	return BASE_WORKER_RESTART_IMMEDIATELY;
}

/* One row of worker_runs, in a transaction of its own; *runs: this one's. */
static void
record_worker_run(int32 workerId, bool createdOutside, int64 *runs)
{
	/* set inside START_TRANSACTION's PG_TRY, read after it */
	volatile int64 count = 0;

	START_TRANSACTION();
	{
		SPI_START();
		{
			DECLARE_SPI_ARGS(4);
			bool		isNull;

			SPI_ARG_VALUE(1, INT4OID, workerId, false);
			SPI_ARG_VALUE(2, INT4OID, MyProcPid, false);
			SPI_ARG_VALUE(3, BOOLOID, createdOutside, false);
			SPI_ARG_VALUE(4, BOOLOID, IsExtensionCreated(Self), false);
			/* the subquery does not see the new row */
			SPI_EXECUTE("INSERT INTO pgeb_test_original.worker_runs "
						"(worker_name, worker_id, pid, created_outside, created_inside) "
						"VALUES (current_setting('application_name'), $1, $2, $3, $4) "
						"RETURNING (SELECT count(*) + 1 FROM pgeb_test_original.worker_runs "
						"WHERE worker_id = $1)", false);
			count = GET_SPI_VALUE(INT8OID, 0, 1, &isNull);
		}
		SPI_END();
	}
	END_TRANSACTION();
	*runs = count;
}

PG_FUNCTION_INFO_V1(pgeb_test_original_deregister_by_name);

Datum
pgeb_test_original_deregister_by_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(DeregisterBaseWorker(text_to_cstring(PG_GETARG_TEXT_PP(0)),
										 PG_GETARG_BOOL(1)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_deregister_by_id);

Datum
pgeb_test_original_deregister_by_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(DeregisterBaseWorkerById(PG_GETARG_INT32(0), PG_GETARG_BOOL(1)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_wakeup_worker);

Datum
pgeb_test_original_wakeup_worker(PG_FUNCTION_ARGS)
{
	WakeupBaseWorker(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pgeb_test_original_launcher_enabled);

Datum
pgeb_test_original_launcher_enabled(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(EnableBaseWorkerLauncher);
}

PG_FUNCTION_INFO_V1(pgeb_test_original_worker_settings);

/*
 * "current/default" of each setting base_workers.h declares, as the
 * original's launcher defined them.
 */
Datum
pgeb_test_original_worker_settings(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%d/%d %d/%d %d/%d %d/%d",
											  WorkerStarterSleepTimeSec,
											  DEFAULT_WORKER_STARTER_SLEEP_TIME,
											  WorkerRestartBackoffInitialMs,
											  DEFAULT_WORKER_RESTART_BACKOFF_INITIAL_MS,
											  WorkerRestartBackoffMaxMs,
											  DEFAULT_WORKER_RESTART_BACKOFF_MAX_MS,
											  WorkerRestartHealthyMs,
											  DEFAULT_WORKER_RESTART_HEALTHY_MS)));
}

PG_FUNCTION_INFO_V1(pgeb_test_original_attached_rows);

/*
 * The rows of a command run by an attached worker, read with a NULL
 * descriptor, which ReadResultsFromAttachedWorker makes from the worker's
 * row description: one text per row, "name type = value, ...".
 */
Datum
pgeb_test_original_attached_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttachedWorker *worker;
	Tuplestorestate *rows;
	TupleDesc	rowDesc = NULL;
	TupleTableSlot *slot;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	worker = StartAttachedWorkerReturning(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	rows = tuplestore_begin_heap(false, false, work_mem);
	ReadResultsFromAttachedWorker(worker, rows, &rowDesc);
	EndAttachedWorker(worker);
	if (rowDesc == NULL)
		return (Datum) 0;

	slot = MakeSingleTupleTableSlot(rowDesc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		StringInfoData line;
		Datum		value;
		bool		isnull = false;
		int			i;

		initStringInfo(&line);
		slot_getallattrs(slot);
		for (i = 0; i < rowDesc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(rowDesc, i);
			Oid			output;
			bool		varlena;

			getTypeOutputInfo(att->atttypid, &output, &varlena);
			appendStringInfo(&line, "%s%s %s = %s", i > 0 ? ", " : "",
							 NameStr(att->attname), format_type_be(att->atttypid),
							 slot->tts_isnull[i] ? "NULL" :
							 OidOutputFunctionCall(output, slot->tts_values[i]));
		}
		value = CStringGetTextDatum(line.data);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(rows);
	return (Datum) 0;
}
