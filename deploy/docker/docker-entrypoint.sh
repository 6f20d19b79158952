#!/bin/sh
# Entry point of the Vireo container image, shaped like the official Valkey
# image's entry point:
#  - `docker run vireo --port 7000` and `docker run vireo /etc/vireo/vireo.conf`
#    start vireo-server with those arguments (a first argument that is an
#    option or ends in .conf means vireo-server);
#  - started as root (`docker run --user 0`), it gives /data to the vireo user
#    and drops to it; as any other user it checks that /data is writable;
#  - like valkey-server's compiled-in defaults in the official image (bind to
#    every interface, protected mode off: the container's port is only
#    reachable where it is published), vireo-server gets `--bind * -::*`
#    unless a config file given as first argument has a `bind` line, and
#    `--protected-mode no` unless that file has a `protected-mode` line.
#    Options given to the container still win (they come later). Set
#    `requirepass` when the port is reachable from untrusted networks;
#  - VIREO_EXTRA_FLAGS, if set, is appended to the arguments.
set -e

# First argument is `-x`/`--some-option`, or `something.conf`: run vireo-server with them.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- vireo-server "$@"
fi

if [ "$1" = 'vireo-server' ]; then
	if [ "$(id -u)" = '0' ] && id vireo >/dev/null 2>&1; then
		find . \! -user vireo -exec chown vireo '{}' +
		exec setpriv --reuid=vireo --regid=vireo --clear-groups -- "$0" "$@"
	fi
	if [ ! -w . ]; then
		echo >&2 "error: directory $(pwd) is not writable by the current user ($(id -u))"
		echo >&2 "  check the volume's permissions, or start as root to let the entry point chown it"
		exit 1
	fi
	shift
	configFile=
	case "${1:-}" in
	-* | '') ;;
	*) configFile="$1"; shift ;;
	esac
	if [ -z "$configFile" ] || ! grep -Eqs '^[[:space:]]*protected-mode[[:space:]]' "$configFile"; then
		set -- --protected-mode no "$@"
	fi
	if [ -z "$configFile" ] || ! grep -Eqs '^[[:space:]]*bind[[:space:]]' "$configFile"; then
		set -- --bind '*' '-::*' "$@"
	fi
	if [ -n "$configFile" ]; then
		set -- "$configFile" "$@"
	fi
	set -- vireo-server "$@"
fi

# An appropriate umask, if none was set (files in /data are private to the server).
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

# shellcheck disable=SC2086
exec "$@" $VIREO_EXTRA_FLAGS
