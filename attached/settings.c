/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  Passing the caller's session settings to an attached worker.
 *
 * The worker should understand SQL as the caller would: the same
 * search_path, statement_timeout, DateStyle, TimeZone, custom settings
 * that row security policies read, and so on.  A new connection already
 * has the server, database and role defaults; what it lacks is what the
 * caller's session changed: settings whose source is the client's startup
 * packet or a SET (including SET LOCAL and function SET clauses).  Those
 * are sent by name and text value, with the context and role that set them
 * (as core's RestoreGUCState does), and applied in the worker with those:
 * a superuser's SET log_statement survives a later SET ROLE, for example,
 * and nobody gains anything the caller's session did not already have.
 *
 * Not sent: identity (role, session_authorization), which the worker takes
 * over separately, the transaction's own characteristics, which belong to
 * the caller's transaction, and default_transaction_read_only: the worker
 * is read-only exactly when the caller's current transaction is, which it
 * learns through its own flag; and what only makes sense for a client.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_extension_base/compat.h"
#include "attached.h"

static const char *const not_sent[] = {
	"role",
	"session_authorization",
	"transaction_isolation",
	"transaction_read_only",
	"transaction_deferrable",
	"default_transaction_read_only",
	"client_encoding",
	"application_name",
};

static bool is_sent(struct config_generic *setting);
static bool is_session_placeholder(struct config_generic *setting);
static uint64 name_hash(struct config_generic *setting);

/*
 * What the last call sent, kept for the next: the settings' serialization,
 * its placeholders' fingerprint, and (since PostgreSQL 16) core's
 * serialization of every setting not at its default, as a parallel worker
 * gets it (name, value, source, and the context and role that set it).
 */
static StringInfo sent_data = NULL;
static uint64 sent_fingerprint = 0;
#if PG_VERSION_NUM >= 160000
static char *sent_state = NULL;
static Size sent_state_size = 0;
static TimestampTz sent_reload_time = 0;
#endif

static void list_sent_settings(void);

/*
 * The caller's changed settings, as "name\0value\0context\0role\0" for
 * each and a final "\0", and the fingerprint of the placeholders among
 * them (see below).  out->data is ours: valid until the next call, not to
 * be freed.
 *
 * Since PostgreSQL 16 listing the settings sorts all of them by name (some
 * 400), a large part of a warm call; core's serialization walks only those
 * not at their defaults, and changes whenever a value, source, context or
 * role that set one does.  So we list them again only when it changed, or
 * after a reload (removing a setting from the file can leave the bytes as
 * they were, with a placeholder's reset source changed).  What it cannot
 * see is a library's definition replacing a placeholder with the same
 * value: the fingerprint then still counts it (which can cost a warm
 * worker, whose own placeholders are checked after each call, worker.c),
 * and a setting of the startup packet that the definition makes
 * PGC_BACKEND is still sent, with the caller's own value.
 */
void
pgeb_attached_settings_collect(AttachedCallerSettings *out)
{
#if PG_VERSION_NUM >= 160000
	Size		state_size = EstimateGUCStateSpace();
	char	   *state = palloc(state_size);
	Size		used;

	SerializeGUCState(state_size, state);
	memcpy(&used, state, sizeof(Size));
	used += sizeof(Size);
	if (sent_data == NULL || used != sent_state_size ||
		PgReloadTime != sent_reload_time ||
		memcmp(state, sent_state, used) != 0)
	{
		if (sent_state != NULL)
			pfree(sent_state);
		sent_state = NULL;		/* until the list is complete */
		sent_state_size = 0;
		list_sent_settings();
		sent_state = MemoryContextAlloc(TopMemoryContext, used);
		memcpy(sent_state, state, used);
		sent_state_size = used;
		sent_reload_time = PgReloadTime;
	}
	pfree(state);
#else
	list_sent_settings();
#endif
	out->data = sent_data->data;
	out->size = sent_data->len;
	out->fingerprint = sent_fingerprint;
}

/* One pass over the settings: what a call sends. */
static void
list_sent_settings(void)
{
	int			count;
	struct config_generic **settings;
	int			i;

	if (sent_data == NULL)
	{
		MemoryContext old_context = MemoryContextSwitchTo(TopMemoryContext);

		sent_data = makeStringInfo();
		MemoryContextSwitchTo(old_context);
	}
	resetStringInfo(sent_data);
	sent_fingerprint = 0;
	settings = PGEB_GUC_VARIABLES(&count);
	for (i = 0; i < count; i++)
	{
		struct config_generic *setting = settings[i];

		if (!is_sent(setting))
			continue;
		appendStringInfoString(sent_data, setting->name);
		appendStringInfoChar(sent_data, '\0');
		appendStringInfoString(sent_data, GetConfigOption(setting->name, false, false));
		appendStringInfoChar(sent_data, '\0');
		appendStringInfo(sent_data, "%d", (int) setting->scontext);
		appendStringInfoChar(sent_data, '\0');
		appendStringInfo(sent_data, "%u", setting->srole);
		appendStringInfoChar(sent_data, '\0');
		if (is_session_placeholder(setting))
			sent_fingerprint += name_hash(setting);
	}
	appendStringInfoChar(sent_data, '\0');
	PGEB_GUC_VARIABLES_FREE(settings);
}

/*
 * Apply the settings in the worker, with the context and role that set
 * them in the caller.  Needs a transaction: some settings check the
 * catalogs.
 */
void
pgeb_attached_settings_restore(const char *start)
{
	const char *p = start;

	while (*p != '\0')
	{
		const char *name = p;
		const char *value = name + strlen(name) + 1;
		const char *context = value + strlen(value) + 1;
		const char *role = context + strlen(context) + 1;

		(void) set_config_option_ext(name, value, (GucContext) atoi(context),
									 PGC_S_SESSION, (Oid) strtoul(role, NULL, 10),
									 GUC_ACTION_SET, true, 0, false);
		p = role + strlen(role) + 1;
	}
}

/*
 * A custom setting that exists only because a SET made it (a placeholder
 * no file, database or role setting made): the one part of a warm
 * worker's state that a reset cannot clear, since a placeholder, once
 * made, exists until the process exits; so the pool keys workers by the
 * fingerprint of theirs, and a caller's by those it sends (pool.c).  A sum
 * of hashes of the names, so the order does not matter.
 */
static bool
is_session_placeholder(struct config_generic *setting)
{
	return (setting->flags & GUC_CUSTOM_PLACEHOLDER) != 0 &&
		setting->reset_source == PGC_S_DEFAULT;
}

static uint64
name_hash(struct config_generic *setting)
{
	return hash_bytes_extended((const unsigned char *) setting->name,
							   strlen(setting->name), 0);
}

/*
 * The worker's side, after a call, in one pass: the fingerprint of its
 * placeholders, and whether a plpgsql.* setting is not at its default for
 * this session (a SET in the call, or the caller's setting sent along),
 * which a function compiled during the call kept (reset.c).
 */
void
pgeb_attached_settings_scan(AttachedWorkerSettings *out)
{
	int			count;
	struct config_generic **settings = PGEB_GUC_VARIABLES(&count);
	int			i;

	out->placeholders = 0;
	out->plpgsql_changed = false;
	for (i = 0; i < count; i++)
	{
		struct config_generic *setting = settings[i];

		if (is_session_placeholder(setting))
			out->placeholders += name_hash(setting);
		if (strncmp(setting->name, "plpgsql.", 8) == 0 &&
			setting->source != setting->reset_source)
			out->plpgsql_changed = true;
	}
	PGEB_GUC_VARIABLES_FREE(settings);
}

static bool
is_sent(struct config_generic *setting)
{
	int			i;

	if (setting->source != PGC_S_CLIENT && setting->source != PGC_S_SESSION)
		return false;
	if (setting->context != PGC_USERSET && setting->context != PGC_SUSET)
		return false;
	for (i = 0; i < (int) lengthof(not_sent); i++)
	{
		if (strcmp(setting->name, not_sent[i]) == 0)
			return false;
	}
	return true;
}
