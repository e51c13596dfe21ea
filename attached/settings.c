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
 * The caller's changed settings, as "name\0value\0context\0role\0" for
 * each and a final "\0", in palloc'd memory, and the fingerprint of the
 * placeholders among them (see below).  One pass over the settings: since
 * PostgreSQL 16 listing them sorts all of them by name (some 400), which
 * a few times over was most of a warm call.
 */
void
pgeb_attached_settings_collect(AttachedCallerSettings *out)
{
	int			count;
	struct config_generic **settings = PGEB_GUC_VARIABLES(&count);
	StringInfoData data;
	int			i;

	initStringInfo(&data);
	out->fingerprint = 0;
	for (i = 0; i < count; i++)
	{
		struct config_generic *setting = settings[i];

		if (!is_sent(setting))
			continue;
		appendStringInfoString(&data, setting->name);
		appendStringInfoChar(&data, '\0');
		appendStringInfoString(&data, GetConfigOption(setting->name, false, false));
		appendStringInfoChar(&data, '\0');
		appendStringInfo(&data, "%d", (int) setting->scontext);
		appendStringInfoChar(&data, '\0');
		appendStringInfo(&data, "%u", setting->srole);
		appendStringInfoChar(&data, '\0');
		if (is_session_placeholder(setting))
			out->fingerprint += name_hash(setting);
	}
	appendStringInfoChar(&data, '\0');
	PGEB_GUC_VARIABLES_FREE(settings);
	out->data = data.data;
	out->size = data.len;
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
