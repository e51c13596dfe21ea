/*-------------------------------------------------------------------------
 *
 * marker.c
 *	  Reading the #!shared_preload_libraries marker of a control file.
 *
 * To core the marker is a comment, so a control file that carries it still
 * works on a server without pg_extension_base.  Two forms, at column 0:
 *
 *	 #!shared_preload_libraries
 *		load the extension's own library (module_pathname, or its name);
 *	 #!shared_preload_libraries = 'lib_a, $libdir/lib_b'
 *		load those libraries, in that order (the quotes may be left out).
 *
 * Whitespace around "=", names and commas is ignored; several marker lines
 * add up.  A malformed marker makes us skip the whole file with a WARNING
 * naming the file and line: loading part of what an author asked for, in an
 * order they did not intend, would be worse than loading none of it.  A
 * marker that is indented is not a marker (core's comments may be indented
 * anywhere), but since that is almost certainly a mistake we say so.
 *
 * Runs in the postmaster on text the meta library's scan read; reports at
 * WARNING and never throws.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "preloader.h"

static const char *next_line(const char *line);
static bool parse_marker_line(char *line, List **libraries, const char **problem);
static bool split_library_list(char *value, List **libraries, const char **problem);
static char *trim(char *s);
static bool is_blank(char c);
static void report_bad_marker(const char *path, int lineno, const char *problem);

/*
 * Find the markers in the text of one control file, read by the meta
 * library's scan.  Returns NULL when it has none, or when it could not be
 * read or has a malformed marker (both reported).
 */
PreloadRequest *
preload_read_markers(PgebControlFileEntry *entry)
{
	const char *line = entry->text;
	int			lineno = 0;
	bool		warned = false;
	List	   *libraries = NIL;
	PreloadRequest *request;

	/* not read: the scan cache knows it has no marker */
	if (!entry->read)
		return NULL;

	if (entry->text == NULL)
	{
		errno = entry->read_errno;
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not read extension control file \"%s\": %m",
						entry->path),
				 errdetail("No library of extension \"%s\" is preloaded.",
						   entry->name)));
		return NULL;
	}

	/* a quick look first: most control files have no marker at all */
	if (strstr(entry->text, PRELOAD_MARKER) == NULL)
		return NULL;

	for (; *line != '\0'; line = next_line(line))
	{
		const char *end = strchr(line, '\n');
		size_t		len = end ? (size_t) (end - line) : strlen(line);
		const char *p;
		const char *problem = NULL;
		char	   *copy;

		lineno++;
		if (strncmp(line, PRELOAD_MARKER, strlen(PRELOAD_MARKER)) != 0)
		{
			for (p = line; is_blank(*p); p++)
				;
			if (p != line && strncmp(p, PRELOAD_MARKER, strlen(PRELOAD_MARKER)) == 0)
			{
				warned = true;
				ereport(WARNING,
						(errcode(ERRCODE_CONFIG_FILE_ERROR),
						 errmsg("ignoring indented preload marker in extension control file \"%s\" line %d",
								entry->path, lineno),
						 errhint("The marker must start at column 0.")));
			}
			continue;
		}

		if (len > PRELOAD_MARKER_MAX_LINE)
			problem = psprintf("The line is longer than %d bytes.",
							   PRELOAD_MARKER_MAX_LINE);
		else
		{
			copy = pnstrdup(line, len);
			(void) parse_marker_line(copy, &libraries, &problem);
		}
		if (problem != NULL)
		{
			report_bad_marker(entry->path, lineno, problem);
			return NULL;
		}
	}

	if (libraries == NIL)
		return NULL;			/* the marker text was inside another line */

	request = palloc0(sizeof(PreloadRequest));
	request->entry = entry;
	request->libraries = libraries;
	request->warned = warned;
	return request;
}

/* The start of the line after this one, or the terminating NUL. */
static const char *
next_line(const char *line)
{
	const char *end = strchr(line, '\n');

	return end ? end + 1 : line + strlen(line);
}

/*
 * Parse one line that starts with the marker, appending to *libraries.  On a
 * malformed line returns false and sets *problem to a full sentence.
 */
static bool
parse_marker_line(char *line, List **libraries, const char **problem)
{
	char	   *p = trim(line + strlen(PRELOAD_MARKER));
	bool		glued = (p == line + strlen(PRELOAD_MARKER));

	if (*p == '\0')
	{
		/* the bare form: the extension's own library */
		*libraries = lappend(*libraries, NULL);
		return true;
	}

	if (*p != '=')
	{
		*problem = glued ?
			"Unexpected text after the marker." :
			"Expected \"=\" after the marker.";
		return false;
	}
	p = trim(p + 1);

	if (*p == '\0')
	{
		*problem = "There is no value after \"=\".";
		return false;
	}

	if (*p == '\'')
	{
		char	   *close = strchr(p + 1, '\'');

		if (close == NULL)
		{
			*problem = "The quoted list of libraries is not terminated.";
			return false;
		}
		if (*trim(close + 1) != '\0')
		{
			*problem = "Unexpected text after the quoted list of libraries.";
			return false;
		}
		*close = '\0';
		p++;
	}

	return split_library_list(p, libraries, problem);
}

/* Split "a, b ,c" into names, rejecting empty ones. */
static bool
split_library_list(char *value, List **libraries, const char **problem)
{
	char	   *item = value;

	if (*trim(value) == '\0')
	{
		*problem = "The list of libraries is empty.";
		return false;
	}

	for (;;)
	{
		char	   *comma = strchr(item, ',');
		char	   *name;

		if (comma != NULL)
			*comma = '\0';
		name = trim(item);
		if (*name == '\0')
		{
			*problem = "The list of libraries has an empty entry.";
			return false;
		}
		*libraries = lappend(*libraries, pstrdup(name));
		if (comma == NULL)
			return true;
		item = comma + 1;
	}
}

/* Strip leading and trailing whitespace (and the newline) in place. */
static char *
trim(char *s)
{
	char	   *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && (is_blank(end[-1]) || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
report_bad_marker(const char *path, int lineno, const char *problem)
{
	ereport(WARNING,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("skipping extension control file \"%s\": invalid preload marker at line %d",
					path, lineno),
			 errdetail("%s", problem),
			 errhint("Write the marker as #!shared_preload_libraries or #!shared_preload_libraries = 'library[, ...]'.")));
}
