# scripts/lib.sh: shared by scripts/test, scripts/demo and bench/*.
#
# PostgreSQL refuses to run as root, so when invoked as root these scripts
# install what is missing from Debian's packages, copy the source tree into
# a work directory owned by an unprivileged user (pgeb), and run themselves
# again as that user there.  Everything they build or start lives below the
# work directory: a private installation (tmp_install/) and throwaway
# clusters.  The system's installation and clusters are never touched.

PGEB_USER=${PGEB_USER:-pgeb}

# A LANG naming a locale that is not installed (common over ssh into a fresh
# machine) makes initdb fail: fall back to C.UTF-8, which always exists.
# Setting it before unsetting the rest keeps bash from warning about it.
if [ -n "$(locale 2>&1 >/dev/null)" ]; then
	export LC_ALL=C.UTF-8 LANG=C.UTF-8
	unset LANGUAGE LC_CTYPE LC_COLLATE LC_MESSAGES LC_MONETARY LC_NUMERIC \
		LC_TIME LC_ALL
fi
PGEB_PACKAGES="postgresql-15 postgresql-server-dev-15 libipc-run-perl make gcc libc6-dev"

pgeb_say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
pgeb_die() { pgeb_say "$*"; exit 1; }

# The PostgreSQL major version of the host's own packages (Debian 12: 15).
PGEB_HOST_PG=15

# The settings of our scripts and tests that reach a run in a chroot (which
# starts with an empty environment); README, "Tests", documents them.
PGEB_PASSED_SETTINGS="CI PGEB_SANITIZE PGEB_ASSERT PGEB_FAULT_ROUNDS PGEB_FAULT_SEED
	PGEB_FUZZ_SEED PGEB_FUZZ_CALLS PGEB_FUZZ_CONTROL_FILES
	PGEB_CONCURRENCY_SECONDS PGEB_ATTACHED_POOL"

# Copy the sources over a previous copy in $1.  tar keeps modification
# times, so make rebuilds only what changed there.  Build products of the
# checkout are left behind: they may be for another server version.  The
# list of copied files ($1/.pgeb-sources) tells the next copy which files
# have gone from the sources since, and those are removed from the copy.
pgeb_copy_sources() {
	local manifest="$1/.pgeb-sources" listed
	mkdir -p "$1"
	listed=$(mktemp)
	(cd "$PGEB_REPO" && find . \( -path ./build -o -path ./.git -o -path ./tmp_install \
		-o -path ./tmp_check -o -path ./tmp_regress -o -path ./tmp_isolation \
		-o -path ./demo \) -prune -o \( -type f -o -type l \) \
		! -name '*.o' ! -name '*.so' ! -name '*.bc' -print | LC_ALL=C sort) >"$listed"
	# a file copied last time that is gone from the sources (moved or
	# removed) must not linger in the copy: a stale header would be found
	# by the include path
	if [ -f "$manifest" ]; then
		LC_ALL=C comm -23 "$manifest" "$listed" | (cd "$1" && xargs -r -d '\n' rm -f --)
	fi
	tar -C "$PGEB_REPO" -cf - -T "$listed" | tar -C "$1" -xf -
	mv "$listed" "$manifest"
}

# pgeb_choose_server SCRIPT ARG ...
# Takes "--pg N" from the arguments and leaves the others in PGEB_ARGS.
# Without it, or with the host's version, the script goes on here (PG_CONFIG,
# when set, still names the server).  With another version it goes on here
# too when that server is installed on this machine; otherwise, as root, it
# runs SCRIPT with the other arguments inside the chroot that
# scripts/pg-chroot keeps for N (Debian's own packages of N), on a copy of
# the sources, and does not return.
pgeb_choose_server() {
	local script=$1 version="" arg
	shift
	PGEB_ARGS=()
	while [ $# -gt 0 ]; do
		arg=$1
		shift
		case "$arg" in
			--pg) [ $# -gt 0 ] || pgeb_die "--pg needs a version (15, 17 or 18)"; version=$1; shift ;;
			--pg=*) version=${arg#--pg=} ;;
			*) PGEB_ARGS+=("$arg") ;;
		esac
	done
	[ -n "$version" ] || return 0
	case "$version" in
		*[!0-9]* | "") pgeb_die "--pg takes a major version such as 17, not '$version'" ;;
	esac
	local installed=/usr/lib/postgresql/$version/bin/pg_config
	if [ "$version" = "$PGEB_HOST_PG" ] || [ -x "$installed" ]; then
		[ -x "$installed" ] || [ "$(id -u)" -eq 0 ] ||
			pgeb_die "PostgreSQL $version is not installed; install it with:
  sudo apt-get install $PGEB_PACKAGES"
		export PG_CONFIG=$installed
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || pgeb_die "PostgreSQL $version is not installed here; as root, $script --pg $version runs it in a Debian chroot (scripts/pg-chroot), or set PG_CONFIG to its pg_config"

	# the copy's path inside the chroot; PGEB_WORKDIR keeps runs apart
	local root copy=${PGEB_WORKDIR:-/var/tmp/pg_extension_base-src}
	root=$("$PGEB_REPO/scripts/pg-chroot" "$version") || exit 1
	pgeb_copy_sources "$root$copy"
	pgeb_say "PostgreSQL $version: running $script in the chroot $root"
	local name settings=()
	for name in $PGEB_PASSED_SETTINGS; do
		[ -n "${!name:-}" ] && settings+=("$name=${!name}")
	done
	exec "$PGEB_REPO/scripts/pg-chroot" "$version" env \
		PG_CONFIG="/usr/lib/postgresql/$version/bin/pg_config" "${settings[@]}" \
		bash "$copy/$script" "${PGEB_ARGS[@]}"
}

# The pg_config of the server we build against.
pgeb_pg_config() {
	if [ -n "${PG_CONFIG:-}" ]; then
		echo "$PG_CONFIG"
	elif [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		echo /usr/lib/postgresql/15/bin/pg_config
	else
		command -v pg_config || true
	fi
}

pgeb_missing_prerequisites() {
	local pg_config
	pg_config=$(pgeb_pg_config)
	[ -n "$pg_config" ] && [ -x "$pg_config" ] || { echo "pg_config"; return; }
	[ -f "$("$pg_config" --pgxs)" ] || { echo "PGXS"; return; }
	[ -x "$("$pg_config" --bindir)/postgres" ] || { echo "postgres"; return; }
	command -v make >/dev/null || { echo "make"; return; }
	command -v gcc >/dev/null || { echo "gcc"; return; }
	command -v prove >/dev/null || { echo "prove"; return; }
	perl -MIPC::Run -e1 2>/dev/null || { echo "IPC::Run"; return; }
}

# Install the Debian packages we need, without creating or starting the
# system's own cluster (we never use it).
pgeb_install_packages() {
	local missing
	missing=$(pgeb_missing_prerequisites)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		pgeb_die "$missing is missing; install it with:
  sudo apt-get install $PGEB_PACKAGES"
	fi
	pgeb_say "installing $PGEB_PACKAGES ($missing is missing)"
	mkdir -p /etc/postgresql-common
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
	fi
	export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
	apt-get update -qq </dev/null
	apt-get install -y -qq --no-install-recommends $PGEB_PACKAGES </dev/null >/dev/null
	missing=$(pgeb_missing_prerequisites)
	[ -z "$missing" ] || pgeb_die "$missing is still missing after installing packages"
}

# When root: prepare the work directory and run the calling script again as
# $PGEB_USER from the copy there.  Returns (does nothing) when not root.
#   $1: the script's path relative to the repository, then its arguments
pgeb_drop_root() {
	local script=$1
	shift
	[ "$(id -u)" -eq 0 ] || return 0

	pgeb_install_packages
	if ! id "$PGEB_USER" >/dev/null 2>&1; then
		useradd --system --create-home --home-dir "/var/lib/$PGEB_USER" \
			--shell /bin/bash "$PGEB_USER"
	fi

	# Under the repository when the user can reach it, else in /var/tmp.
	local work=${PGEB_WORKDIR:-$PGEB_REPO/build}
	mkdir -p "$work"
	chown "$PGEB_USER" "$work"
	if ! runuser -u "$PGEB_USER" -- test -w "$work"; then
		work=/var/tmp/pg_extension_base-build
		pgeb_say "user $PGEB_USER cannot reach $PGEB_REPO; working in $work"
		mkdir -p "$work"
		chown "$PGEB_USER" "$work"
	fi

	pgeb_copy_sources "$work/src"
	chown -R "$PGEB_USER" "$work"

	pgeb_say "running as user $PGEB_USER in $work/src"
	# the user may not be able to enter the current directory
	cd "$work/src"
	exec runuser -u "$PGEB_USER" -- env \
		PG_CONFIG="$(pgeb_pg_config)" PGEB_OUTER_REPO="$PGEB_REPO" \
		HOME="/var/lib/$PGEB_USER" \
		bash "$work/src/$script" "$@"
}

# Build everything and make the private installation (tmp_install/).
pgeb_build_private_install() {
	make -s -C "$PGEB_REPO" PG_CONFIG="$(pgeb_pg_config)" PGEB_WERROR=1 tmp-install >/dev/null
}

# The pg_config of the private installation.
pgeb_private_pg_config() {
	echo "$PGEB_REPO/tmp_install$("$(pgeb_pg_config)" --bindir)/pg_config"
}
