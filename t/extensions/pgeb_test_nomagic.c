/*
 * pgeb_test_nomagic.c
 *	  A library without PG_MODULE_MAGIC, which PostgreSQL refuses to load.
 */
#include "postgres.h"

extern PGDLLEXPORT int pgeb_test_nomagic_marker;

int			pgeb_test_nomagic_marker = 1;
