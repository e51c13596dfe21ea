# Our own SQL never runs a user's function with more privileges than the
# user has: not through a database's search_path in a database starter
# (which runs as the bootstrap superuser), and not through the caller's
# search_path when DROP EXTENSION removes registrations as the table's
# owner.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgebTest;

my $node = new_node('security');
start_with_extension($node);

# a database owned by an unprivileged role, with pg_extension_base (made by
# a superuser) and functions and operators that would make their caller's
# role a superuser
$node->safe_psql('postgres', q{
	CREATE ROLE owner LOGIN;
	CREATE DATABASE owned OWNER owner});
$node->safe_psql('owned', q{
	SET client_min_messages = warning;
	CREATE EXTENSION pg_extension_base;
	CREATE EXTENSION pgcrypto});
$node->safe_psql('owned', q{
	CREATE SCHEMA trap AUTHORIZATION owner;
	SET ROLE owner;
	CREATE FUNCTION trap.to_regprocedure(text) RETURNS regprocedure
		LANGUAGE plpgsql AS $$
		BEGIN
			ALTER ROLE owner SUPERUSER;
			RETURN pg_catalog.to_regprocedure($1);
		END $$;
	CREATE FUNCTION trap.name_eq(name, name) RETURNS bool
		LANGUAGE plpgsql AS $$
		BEGIN
			ALTER ROLE owner SUPERUSER;
			RETURN $1 OPERATOR(pg_catalog.=) $2;
		END $$;
	CREATE OPERATOR trap.= (LEFTARG = name, RIGHTARG = name, FUNCTION = trap.name_eq);
	RESET ROLE});
$node->safe_psql('owned', q{
	SET client_min_messages = warning;
	CREATE EXTENSION pgeb_test_worker});

# the owner points the database's search_path at the trap and makes the
# server starter scan the database again
$node->safe_psql('owned',
	'ALTER DATABASE owned SET search_path = trap, pg_catalog',
	extra_params => [ '-U', 'owner' ]);
wait_for_base_workers($node, 'owned/test_worker',
	'the worker runs after the database starter read the registrations');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 0 FROM extension_base.list_database_starters()}),
	'the database starter has exited');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'owner'}),
	'f', 'the database starter did not call the database\'s search_path functions');

# DROP EXTENSION removes registrations as the table's owner: the caller's
# search_path must not reach its operators
$node->safe_psql('owned', q{
	SET search_path = trap, pg_catalog;
	DROP EXTENSION pgeb_test_worker});
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'owner'}),
	'f', 'DROP EXTENSION did not call the caller\'s search_path operators');
is(base_workers($node), '', 'and the worker is gone');

$node->stop;
done_testing();
