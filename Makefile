# Makefile: pg_extension_base, the meta-extension, and the entry point that
# builds, installs and tests every module.
#
#   make                 build everything
#   make install         install everything (honours PG_CONFIG and DESTDIR)
#   make installcheck    run the test suites against the installation of
#                        PG_CONFIG (needs our files installed there)
#   make test            build a private installation under tmp_install/
#                        (a copy of the server tree plus our files) and run
#                        every test against it; never touches a cluster of
#                        the system.  One TAP file:
#                        make test REGRESS= PROVE_TESTS=t/010_preload_order.pl
#                        One isolation spec (specs/NAME.spec), alone:
#                        make test REGRESS=NAME TAP_TESTS=

MODULE_big = pg_extension_base
OBJS = pg_extension_base.o control_file.o control_listing.o modules.o
EXTENSION = pg_extension_base
DATA = pg_extension_base--1.0.sql
PGFILEDESC = "pg_extension_base - infrastructure for PostgreSQL extensions"

SUBDIRS = deps supervisor attached preloader
PGEB_PUBLIC_HEADERS = include/pg_extension_base/abi.h include/pg_extension_base/compat.h

REGRESS = meta preloader deps attached
REGRESS_OPTS = --temp-config=$(srcdir)/sql/regress.conf \
	--temp-instance=$(CURDIR)/tmp_regress --encoding=UTF8 --no-locale
TAP_TESTS = 1

# Isolation specs (specs/, expected/), run by pg_isolation_regress after
# pg_regress and before TAP, against a temporary instance of their own.  A
# REGRESS given on the command line (scripts/test NAME ...) selects: its
# names that are specs run as isolation tests, the others as pg_regress
# tests; an empty one runs no spec.  The results go beside pg_regress's
# (results/, regression.diffs, log/) rather than to output_iso/, so that
# scripts/test shows their diffs too.
ISOLATION_SPECS = base_worker_create_rollback base_worker_savepoint \
	base_worker_prepared base_worker_ddl_race
ifeq ($(origin REGRESS),command line)
ISOLATION := $(filter $(ISOLATION_SPECS),$(REGRESS))
override REGRESS := $(filter-out $(ISOLATION_SPECS),$(REGRESS))
else
ISOLATION := $(ISOLATION_SPECS)
endif
ISOLATION_OPTS = --temp-config=$(srcdir)/specs/isolation.conf \
	--temp-instance=$(CURDIR)/tmp_isolation --encoding=UTF8 --no-locale \
	--outputdir=.

include Makefile.common
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
include Makefile.headers

# TAP tests find their shared helpers in t/
PG_PROVE_FLAGS += -I $(srcdir)/t

$(call recurse,all install installdirs uninstall clean,$(SUBDIRS))

# The private installation used by "make test" and the demo.
TMP_INSTALL = $(CURDIR)/tmp_install
PRIVATE_PG_CONFIG = $(TMP_INSTALL)$(bindir)/pg_config

.PHONY: test tmp-install
tmp-install: all
	$(srcdir)/scripts/make-private-install '$(PG_CONFIG)' '$(TMP_INSTALL)'
	$(MAKE) install DESTDIR='$(TMP_INSTALL)'
	$(MAKE) -C examples install PG_CONFIG='$(PRIVATE_PG_CONFIG)'
	$(MAKE) -C t/extensions install PG_CONFIG='$(PRIVATE_PG_CONFIG)'

test: tmp-install
	$(MAKE) installcheck PG_CONFIG='$(PRIVATE_PG_CONFIG)' PGEB_TMP_INSTALL='$(TMP_INSTALL)'

clean: clean-test-output
.PHONY: clean-test-output
clean-test-output:
	rm -rf tmp_install tmp_regress tmp_isolation tmp_check results log regression.diffs regression.out
	$(MAKE) -C examples clean
	$(MAKE) -C t/extensions clean
