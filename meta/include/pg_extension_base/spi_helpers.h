/*-------------------------------------------------------------------------
 *
 * spi_helpers.h
 *	  Shorthands for running parameterised queries through SPI, as a
 *	  caller or as the owner of an extension.
 *
 * Header only: macros and static inline functions, no library behind
 * them (except ExtensionOwnerId, of extension_ids.h, for the owner
 * variants).  A typical use, in a transaction:
 *
 *	  SPI_START();
 *	  DECLARE_SPI_ARGS(2);
 *	  bool		isNull;
 *
 *	  SPI_ARG_VALUE(1, TEXTOID, name, name == NULL);
 *	  SPI_ARG_VALUE(2, INT8OID, limit, false);
 *	  SPI_EXECUTE("SELECT count(*) FROM t WHERE name = $1 AND n < $2", true);
 *	  count = GET_SPI_VALUE(INT8OID, 0, 1, &isNull);
 *	  SPI_END();
 *
 * Type arguments are the names of type oid macros of catalog/pg_type.h
 * (TEXTOID, INT8OID, ...), written out: the macros paste them into the
 * names of the conversions below, so only the types listed there work.
 *
 * The macros that begin something (DECLARE_SPI_ARGS, SPI_START_VARS,
 * DISABLE_QUERY_TRACKING, SPI_START, SPI_START_EXTENSION_OWNER,
 * ALLOW_TEMP_OBJECTS_BEGIN, BEGIN_EXTENSION_OWNER_CONTEXT) declare
 * variables in the caller's block (their names start with "spiArg", "_"
 * or "pgeb_spi_") and are declarations only, whose initialisers do the
 * work: they go where declarations may go, and more may follow them.  Two
 * that declare the same names (two DECLARE_SPI_ARGS; any two of SPI_START,
 * SPI_START_EXTENSION_OWNER and BEGIN_EXTENSION_OWNER_CONTEXT) need blocks
 * of their own.
 *
 * An ERROR between a START and its END leaves the user, the settings and
 * SPI to the abort of the (sub)transaction, which restores all three; code
 * that catches the error without aborting a (sub)transaction must not go
 * on as if the END had run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EXTENSION_BASE_SPI_HELPERS_H
#define PG_EXTENSION_BASE_SPI_HELPERS_H

#include "miscadmin.h"

#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "pg_extension_base/extension_ids.h"

/*
 * A C value as a Datum of the type named: DATUMIZE(INT8OID, 42).  TEXTOID
 * and JSONOID take a C string (copied into a new text); the array types,
 * BYTEAOID and JSONBOID a pointer to the value.
 */
#define DATUMIZE_TEXTOID(Value) CStringGetTextDatum(Value)
#define DATUMIZE_TEXTARRAYOID(Value) PointerGetDatum(Value)
#define DATUMIZE_CHAROID(Value) CharGetDatum(Value)
#define DATUMIZE_BOOLOID(Value) BoolGetDatum(Value)
#define DATUMIZE_OIDOID(Value) ObjectIdGetDatum(Value)
#define DATUMIZE_INT2OID(Value) Int16GetDatum(Value)
#define DATUMIZE_INT2ARRAYOID(Value) PointerGetDatum(Value)
#define DATUMIZE_INT4OID(Value) Int32GetDatum(Value)
#define DATUMIZE_INT4ARRAYOID(Value) PointerGetDatum(Value)
#define DATUMIZE_INT8OID(Value) Int64GetDatum(Value)
#define DATUMIZE_INT8ARRAYOID(Value) PointerGetDatum(Value)
#define DATUMIZE_FLOAT4OID(Value) Float4GetDatum(Value)
#define DATUMIZE_FLOAT4ARRAYOID(Value) PointerGetDatum(Value)
#define DATUMIZE_FLOAT8OID(Value) Float8GetDatum(Value)
#define DATUMIZE_FLOAT8ARRAYOID(Value) PointerGetDatum(Value)
#define DATUMIZE_TIMESTAMPTZOID(Value) TimestampTzGetDatum(Value)
#define DATUMIZE_JSONOID(Value) CStringGetTextDatum(Value)
#define DATUMIZE_JSONBOID(Value) JsonbPGetDatum(Value)
#define DATUMIZE_BYTEAOID(Value) PointerGetDatum(Value)
#define DATUMIZE_BYTEAARRAYOID(Value) PointerGetDatum(Value)
#define DATUMIZE_LSNOID(Value) LSNGetDatum(Value)
#define DATUMIZE_NAMEOID(Value) NameGetDatum(Value)
#define DATUMIZE(TypeId, Value) DATUMIZE_##TypeId(Value)

/*
 * The other way: a Datum of the type named as a C value (TEXTOID and
 * JSONOID as a new C string, the array types as ArrayType *, BYTEAOID as
 * bytea *, both detoasted; NAMEOID as Name).
 *
 * The original pg_extension_base defines DEDATUMIZE(TypeId, Value) as
 * DATUMIZE_##TypeId(Value), the wrong direction; here it converts from a
 * Datum, as its name says.
 */
#define DEDATUMIZE_TEXTOID(Value) TextDatumGetCString(Value)
#define DEDATUMIZE_TEXTARRAYOID(Value) DatumGetArrayTypeP(Value)
#define DEDATUMIZE_CHAROID(Value) DatumGetChar(Value)
#define DEDATUMIZE_BOOLOID(Value) DatumGetBool(Value)
#define DEDATUMIZE_OIDOID(Value) DatumGetObjectId(Value)
#define DEDATUMIZE_INT2OID(Value) DatumGetInt16(Value)
#define DEDATUMIZE_INT2ARRAYOID(Value) DatumGetArrayTypeP(Value)
#define DEDATUMIZE_INT4OID(Value) DatumGetInt32(Value)
#define DEDATUMIZE_INT4ARRAYOID(Value) DatumGetArrayTypeP(Value)
#define DEDATUMIZE_INT8OID(Value) DatumGetInt64(Value)
#define DEDATUMIZE_INT8ARRAYOID(Value) DatumGetArrayTypeP(Value)
#define DEDATUMIZE_FLOAT4OID(Value) DatumGetFloat4(Value)
#define DEDATUMIZE_FLOAT4ARRAYOID(Value) DatumGetArrayTypeP(Value)
#define DEDATUMIZE_FLOAT8OID(Value) DatumGetFloat8(Value)
#define DEDATUMIZE_FLOAT8ARRAYOID(Value) DatumGetArrayTypeP(Value)
#define DEDATUMIZE_TIMESTAMPTZOID(Value) DatumGetTimestampTz(Value)
#define DEDATUMIZE_JSONOID(Value) TextDatumGetCString(Value)
#define DEDATUMIZE_JSONBOID(Value) DatumGetJsonbP(Value)
#define DEDATUMIZE_BYTEAOID(Value) DatumGetByteaP(Value)
#define DEDATUMIZE_BYTEAARRAYOID(Value) DatumGetArrayTypeP(Value)
#define DEDATUMIZE_LSNOID(Value) DatumGetLSN(Value)
#define DEDATUMIZE_NAMEOID(Value) DatumGetName(Value)
#define DEDATUMIZE(TypeId, Value) DEDATUMIZE_##TypeId(Value)

/*
 * Arguments of a query: DECLARE_SPI_ARGS(n) declares room for n of them
 * (spiArgCount, spiArgTypes, spiArgValues, spiArgNulls, which a caller may
 * also set directly or hand to SPI_prepare and the like): types and values
 * zero, nulls ' ' (not null), as in the original.  n must be a constant.
 * It only declares, so more declarations may follow it.  The SPI_ARG_
 * macros set argument Index, counted from 1 as $1 is: SPI_ARG_DATUM from a
 * Datum, SPI_ARG_NULL to null, SPI_ARG_VALUE from a C value, or to null
 * when IsNull is true (Value is then not evaluated).
 */
#define DECLARE_SPI_ARGS(Count) \
	const int	spiArgCount pg_attribute_unused() = (Count); \
	Oid			spiArgTypes[Count]; \
	Datum		spiArgValues[Count]; \
	char		spiArgNulls[Count]; \
	void	   *pgeb_spi_types_set pg_attribute_unused() = \
		memset(spiArgTypes, 0, sizeof(spiArgTypes)); \
	void	   *pgeb_spi_values_set pg_attribute_unused() = \
		memset(spiArgValues, 0, sizeof(spiArgValues)); \
	void	   *pgeb_spi_nulls_set pg_attribute_unused() = \
		memset(spiArgNulls, ' ', sizeof(spiArgNulls))

#define SPI_ARG_DATUM(Index, TypeId, DatumValue) \
	do { \
		spiArgTypes[(Index) - 1] = (TypeId); \
		spiArgValues[(Index) - 1] = (DatumValue); \
		spiArgNulls[(Index) - 1] = ' '; \
	} while (0)

#define SPI_ARG_NULL(Index, TypeId) \
	do { \
		spiArgTypes[(Index) - 1] = (TypeId); \
		spiArgValues[(Index) - 1] = (Datum) 0; \
		spiArgNulls[(Index) - 1] = 'n'; \
	} while (0)

#define SPI_ARG_VALUE(Index, TypeId, Value, IsNull) \
	do { \
		if (IsNull) \
			SPI_ARG_NULL(Index, TypeId); \
		else \
			SPI_ARG_DATUM(Index, TypeId, DATUMIZE_##TypeId(Value)); \
	} while (0)

/*
 * Run a query with the declared arguments (all rows; ReadOnly as for
 * SPI_execute).  Errors of the query are raised as usual; a negative
 * status, which means the calling code misused SPI (not connected, a
 * transaction command, COPY), is raised as an internal error.
 */
#define SPI_EXECUTE(Query, ReadOnly) \
	do { \
		int			pgeb_spi_status = SPI_execute_with_args((Query), spiArgCount, \
															spiArgTypes, spiArgValues, \
															spiArgNulls, (ReadOnly), 0); \
		if (pgeb_spi_status < 0) \
			ereport(ERROR, \
					(errcode(ERRCODE_INTERNAL_ERROR), \
					 errmsg("could not run a query through SPI: %s", \
							SPI_result_code_string(pgeb_spi_status)))); \
	} while (0)

/*
 * A column (numbered from 1) of a row (numbered from 0) of the last
 * result, as a Datum, and as a C value of the type named.  *IsNull says
 * whether it is null; GET_SPI_VALUE then gives 0 (NULL for the pointer
 * types) without converting anything.  GET_SPI_VALUE evaluates its row,
 * column and IsNull arguments twice.
 */
#define GET_SPI_DATUM(RowIndex, ColumnNumber, IsNull) \
	SPI_getbinval(SPI_tuptable->vals[RowIndex], SPI_tuptable->tupdesc, \
				  (ColumnNumber), (IsNull))

#define GET_SPI_VALUE(TypeId, RowIndex, ColumnNumber, IsNull) \
	((GET_SPI_DATUM(RowIndex, ColumnNumber, IsNull), *(IsNull)) ? 0 : \
	 DEDATUMIZE_##TypeId(GET_SPI_DATUM(RowIndex, ColumnNumber, IsNull)))

/*
 * The search_path of code that runs as an extension's owner: nothing the
 * caller can create is found before the system catalogs, so an unqualified
 * function, operator or cast in our queries cannot be taken over by an
 * object of the caller's.
 */
#define PGEB_EXTENSION_OWNER_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * The security context of code that runs as an extension's owner: the
 * user id is changed locally, and the operation is security-restricted,
 * so what runs inside cannot change the role (SET ROLE, SET SESSION
 * AUTHORIZATION), create temporary objects or leave cursors and prepared
 * statements behind for the caller to use with the owner's rights.
 */
#define PGEB_EXTENSION_OWNER_SECURITY_CONTEXT \
	(SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION)

/*
 * Change a setting until the GUC nest level it was changed in ends, as a
 * function's SET clause does.  A setting no loaded module defines is left
 * alone (setting it would create a placeholder for it).
 */
static inline void
pgeb_spi_set_saved(const char *name, const char *value)
{
	if (GetConfigOption(name, true, false) != NULL)
		(void) set_config_option(name, value, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * Open a GUC nest level and turn query tracking off in it; returns the
 * level.  Our queries are the extension's internals: auto_explain, pgaudit
 * and pg_stat_statements should neither log them nor count them (nor fail
 * on them), so the three are turned off for them when they are loaded.
 */
static inline int
pgeb_spi_disable_query_tracking(void)
{
	int			level = NewGUCNestLevel();

	pgeb_spi_set_saved("auto_explain.log_min_duration", "-1");
	pgeb_spi_set_saved("pgaudit.log", "none");
	pgeb_spi_set_saved("pg_stat_statements.track", "none");
	return level;
}

/*
 * Save the user and security context, become the extension's owner in a
 * security-restricted operation and lock search_path down; the setting is
 * made in the GUC nest level the caller opened.
 */
static inline void
pgeb_spi_become_owner(CachedExtensionIds *extension, Oid *savedUserId,
					  int *savedSecurityContext)
{
	GetUserIdAndSecContext(savedUserId, savedSecurityContext);
	SetUserIdAndSecContext(ExtensionOwnerId(extension),
						   PGEB_EXTENSION_OWNER_SECURITY_CONTEXT);
	pgeb_spi_set_saved("search_path", PGEB_EXTENSION_OWNER_SEARCH_PATH);
}

/* SPI_START_EXTENSION_OWNER's work before SPI_connect; returns the level */
static inline int
pgeb_spi_enter_extension_owner(CachedExtensionIds *extension,
							   Oid *savedUserId, int *savedSecurityContext)
{
	int			level = pgeb_spi_disable_query_tracking();

	pgeb_spi_become_owner(extension, savedUserId, savedSecurityContext);
	return level;
}

/* BEGIN_EXTENSION_OWNER_CONTEXT's work; returns the level */
static inline int
pgeb_spi_enter_owner_context(CachedExtensionIds *extension,
							 Oid *savedUserId, int *savedSecurityContext)
{
	int			level = NewGUCNestLevel();

	pgeb_spi_become_owner(extension, savedUserId, savedSecurityContext);
	return level;
}

/* ALLOW_TEMP_OBJECTS_BEGIN's work; returns the security context to restore */
static inline int
pgeb_spi_allow_temp_objects(Oid *userId)
{
	int			securityContext;

	GetUserIdAndSecContext(userId, &securityContext);
	SetUserIdAndSecContext(*userId,
						   securityContext & ~SECURITY_RESTRICTED_OPERATION);
	return securityContext;
}

/*
 * SPI_START_VARS declares where the owner variants save the caller's user
 * (InvalidOid: nothing saved).  DISABLE_QUERY_TRACKING opens a GUC nest
 * level and turns query tracking off in it; RESET_QUERY_TRACKING ends that
 * level, which restores every setting changed in it.
 */
#define SPI_START_VARS() \
	Oid			_savedUserId = InvalidOid; \
	int			_savedSecurityContext = 0

#define DISABLE_QUERY_TRACKING() \
	int			_spiGUCNestLevel = pgeb_spi_disable_query_tracking()

#define RESET_QUERY_TRACKING() \
	AtEOXact_GUC(true, _spiGUCNestLevel)

/* Connect to SPI as the current user, query tracking off. */
#define SPI_START() \
	SPI_START_VARS(); \
	DISABLE_QUERY_TRACKING(); \
	int			pgeb_spi_connected pg_attribute_unused() = SPI_connect()

/*
 * Connect to SPI as the owner of an extension (a CachedExtensionIds *),
 * query tracking off, search_path locked down as above; SPI_END goes back
 * to the caller's user, security context and settings.  An error when the
 * extension does not exist.
 */
#define SPI_START_EXTENSION_OWNER(Extension) \
	SPI_START_VARS(); \
	int			_spiGUCNestLevel = \
		pgeb_spi_enter_extension_owner((Extension), &_savedUserId, \
									   &_savedSecurityContext); \
	int			pgeb_spi_connected pg_attribute_unused() = SPI_connect()

#define SPI_END() \
	do { \
		if (_savedUserId != InvalidOid) \
			SetUserIdAndSecContext(_savedUserId, _savedSecurityContext); \
		RESET_QUERY_TRACKING(); \
		SPI_finish(); \
	} while (0)

/*
 * Inside a security-restricted operation (the owner variants), allow
 * temporary objects between ALLOW_TEMP_OBJECTS_BEGIN and _END: core
 * refuses CREATE TEMP TABLE and the like there.  The user and search_path
 * stay as they are.  Keep the region to fixed statements of the
 * extension's own, with nothing from the caller in them.
 */
#define ALLOW_TEMP_OBJECTS_BEGIN() \
	Oid			_allowTempUserId = InvalidOid; \
	int			_allowTempSecContext = \
		pgeb_spi_allow_temp_objects(&_allowTempUserId)

#define ALLOW_TEMP_OBJECTS_END() \
	SetUserIdAndSecContext(_allowTempUserId, _allowTempSecContext)

/*
 * Run C code (no SPI) as the owner of an extension, with the same
 * security context and search_path as SPI_START_EXTENSION_OWNER:
 * sequence defaults, policies and other SQL that such code may run
 * indirectly cannot be taken over through the caller's search_path.
 */
#define BEGIN_EXTENSION_OWNER_CONTEXT(Extension) \
	SPI_START_VARS(); \
	int			_extOwnerGUCNestLevel = \
		pgeb_spi_enter_owner_context((Extension), &_savedUserId, \
									 &_savedSecurityContext)

#define END_EXTENSION_OWNER_CONTEXT() \
	do { \
		AtEOXact_GUC(true, _extOwnerGUCNestLevel); \
		if (_savedUserId != InvalidOid) \
			SetUserIdAndSecContext(_savedUserId, _savedSecurityContext); \
	} while (0)

#endif							/* PG_EXTENSION_BASE_SPI_HELPERS_H */
