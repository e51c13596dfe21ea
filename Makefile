# Makefile: the whole project.  Builds, installs and tests the five
# libraries, each in its own folder with its own Makefile (meta/ is
# pg_extension_base, the meta library; deps/, supervisor/, attached/,
# preloader/ its components): "make -C meta" builds one of them.
#
#   make                 build everything
#   make install         install everything (honours PG_CONFIG and DESTDIR)
#   make installcheck    run the test suites against the installation of
#                        PG_CONFIG (needs our files installed there)
#   make test            build a private installation under tmp_install/
#                        (a copy of the server tree plus our files) and run
#                        every test against it; never touches a cluster of
#                        the system.  One TAP file:
#                        make test REGRESS= PROVE_TESTS=t/001_preload_order.pl
#                        One isolation spec (specs/NAME.spec), alone:
#                        make test REGRESS=NAME TAP_TESTS=
#   make check-headers   compile every header of every library alone (each
#                        library's Makefile.common target); fails on any
#                        error or warning

# meta first, then the components in the order the meta library loads them
SUBDIRS = meta deps supervisor attached preloader

REGRESS = meta preloader deps attached
# $(TEMP_CONF) is PGXS's --temp-config=$(TEMP_CONFIG) when TEMP_CONFIG is
# set (scripts/test sets it for PGEB_ATTACHED_POOL=off); PGXS adds it to
# "make check" only, and we run installcheck against a temporary instance.
REGRESS_OPTS = --temp-config=$(srcdir)/sql/regress.conf $(TEMP_CONF) \
	--temp-instance=$(CURDIR)/tmp_regress --encoding=UTF8 --no-locale
TAP_TESTS = 1

# Isolation specs (specs/, expected/), run by pg_isolation_regress after
# pg_regress and before TAP, against a temporary instance of their own.  A
# REGRESS given on the command line (scripts/test NAME ...) selects: its
# names that are specs run as isolation tests, the others as pg_regress
# tests; an empty one runs no spec.  Their results, diffs and server log
# go to output_iso/ (PGXS's default), so that the server log of the
# pg_regress run in log/ stays for scripts/test's search for sanitizer
# reports and failed assertions; scripts/test shows both diffs.
ISOLATION_SPECS = base_worker_create_rollback base_worker_savepoint \
	base_worker_prepared base_worker_ddl_race
ifeq ($(origin REGRESS),command line)
ISOLATION := $(filter $(ISOLATION_SPECS),$(REGRESS))
override REGRESS := $(filter-out $(ISOLATION_SPECS),$(REGRESS))
else
ISOLATION := $(ISOLATION_SPECS)
endif
ISOLATION_OPTS = --temp-config=$(srcdir)/specs/isolation.conf $(TEMP_CONF) \
	--temp-instance=$(CURDIR)/tmp_isolation --encoding=UTF8 --no-locale \
	--outputdir=output_iso

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# TAP tests find their shared helpers in t/
PG_PROVE_FLAGS += -I $(srcdir)/t

$(call recurse,all install installdirs uninstall clean check-headers,$(SUBDIRS))

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
	rm -rf tmp_install tmp_regress tmp_isolation tmp_check results log regression.diffs regression.out output_iso
	$(MAKE) -C examples clean
	$(MAKE) -C t/extensions clean
