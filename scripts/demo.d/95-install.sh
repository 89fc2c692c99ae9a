#!/usr/bin/env bash
# install: what `make install` (and the package) puts where, and the site file a fresh install starts from
set -u
cd "$TIERGATE_ROOT" || exit 1
dest=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT

echo "\$ make install DESTDIR=$dest"
make -s --no-print-directory BUILD="$TIERGATE_BUILD" DESTDIR="$dest" install >/dev/null || exit 1
(cd "$dest" && find . -type f | sed 's|^\.||' | grep -v '/share/doc/' | sort)
echo "(and examples and notes in /usr/share/doc/tiergate/; the package adds the users"
echo " tiergate, tiergate-bridge, tiergate-sandbox and /var/{lib,spool,log}/tiergate: make deb)"
echo
echo "\$ tiergate-policy check /etc/tiergate/tiergate.conf     # the fresh install's site file"
"$dest/usr/bin/tiergate-policy" check "$dest/etc/tiergate/tiergate.conf"
echo
echo "\$ man 5 tiergate.conf     # every setting and its default (first lines of the gateway group)"
MANWIDTH=80 man -l "$dest/usr/share/man/man5/tiergate.conf.5" 2>/dev/null | sed -n '/^GATEWAY/,/^ *timeout_syn/p'
