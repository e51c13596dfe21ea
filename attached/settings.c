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

/* room for a GucContext or an Oid in decimal, with its NUL */
#define SETTING_NUMBER_LEN 12

static bool is_sent(struct config_generic *setting);

/* Bytes needed for the caller's changed settings. */
Size
pgeb_attached_settings_size(void)
{
	int			count;
	struct config_generic **settings = PGEB_GUC_VARIABLES(&count);
	Size		size = 1;
	int			i;

	for (i = 0; i < count; i++)
	{
		if (is_sent(settings[i]))
			size = add_size(size, strlen(settings[i]->name) + 1 +
							strlen(GetConfigOption(settings[i]->name, false, false)) + 1 +
							2 * SETTING_NUMBER_LEN);
	}
	PGEB_GUC_VARIABLES_FREE(settings);
	return size;
}

/*
 * Write "name\0value\0context\0role\0" for each changed setting, then a
 * final "\0".
 */
void
pgeb_attached_settings_serialize(char *start, Size size)
{
	int			count;
	struct config_generic **settings = PGEB_GUC_VARIABLES(&count);
	char	   *p = start;
	int			i;

	for (i = 0; i < count; i++)
	{
		const char *value;
		Size		needed;

		if (!is_sent(settings[i]))
			continue;
		value = GetConfigOption(settings[i]->name, false, false);
		needed = strlen(settings[i]->name) + 1 + strlen(value) + 1 +
			2 * SETTING_NUMBER_LEN;
		if (p + needed + 1 > start + size)
			elog(ERROR, "settings changed while being sent to an attached worker");
		p += sprintf(p, "%s", settings[i]->name) + 1;
		p += sprintf(p, "%s", value) + 1;
		p += sprintf(p, "%d", (int) settings[i]->scontext) + 1;
		p += sprintf(p, "%u", settings[i]->srole) + 1;
	}
	*p = '\0';
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
 * The fingerprint of a set of custom settings that exist only because a
 * SET made them (placeholders no file, database or role setting made):
 * the one key of a warm worker that a reset cannot clear, since a
 * placeholder, once made, exists until the process exits (pool.c).  On
 * the caller's side, of those it sends; on the worker's, of those it has.
 * A sum of hashes, so the order does not matter.
 */
static uint64
placeholder_fingerprint(bool only_sent)
{
	int			count;
	struct config_generic **settings = PGEB_GUC_VARIABLES(&count);
	uint64		fingerprint = 0;
	int			i;

	for (i = 0; i < count; i++)
	{
		struct config_generic *setting = settings[i];

		if (!(setting->flags & GUC_CUSTOM_PLACEHOLDER) ||
			setting->reset_source != PGC_S_DEFAULT ||
			(only_sent && !is_sent(setting)))
			continue;
		fingerprint += hash_bytes_extended((const unsigned char *) setting->name,
										   strlen(setting->name), 0);
	}
	PGEB_GUC_VARIABLES_FREE(settings);
	return fingerprint;
}

uint64
pgeb_attached_settings_fingerprint(void)
{
	return placeholder_fingerprint(true);
}

uint64
pgeb_attached_placeholders_fingerprint(void)
{
	return placeholder_fingerprint(false);
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
