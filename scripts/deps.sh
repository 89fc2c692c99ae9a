#!/usr/bin/env bash
# deps.sh -- install the Debian 12 packages tiergate builds, tests and demos with.
# Idempotent: does nothing when every package is present. Works with no stdin,
# retries while another apt holds the lock. Usage: scripts/deps.sh [build|all]
# BUILD_PKGS is also debian/control's Build-Depends (tests/suites/94-install-docs.sh
# compares them; build-essential and debhelper are there as debhelper-compat).
set -eu
want="${1:-all}"

BUILD_PKGS="build-essential pkg-config clang libclang-rt-14-dev
 libnetfilter-queue-dev libmnl-dev libndpi-dev libpcap-dev libconfig-dev
 libmagic-dev libqpdf-dev libmupdf-dev libmujs-dev libgumbo-dev libopenjp2-7-dev
 libjbig2dec0-dev libharfbuzz-dev libfreetype-dev libjpeg-dev libpng-dev
 libgmime-3.0-dev libmilter-dev libzip-dev libxml2-dev libseccomp-dev libssl-dev
 liboath-dev libevent-dev libqrencode-dev libcap-ng-dev zlib1g-dev libdeflate-dev
 libheif-dev libwebp-dev libde265-dev
 debhelper groff-base"

RUN_PKGS="iproute2 iptables iputils-ping tcpdump tcpreplay curl netcat-openbsd
 socat swaks postfix iperf3 haproxy ghostscript poppler-utils qpdf
 fonts-ipafont-gothic libndpi-bin oathtool openssl dnsutils dnsmasq-base
 openssh-client openssh-server python3 zip unzip p7zip-full file procps psmisc
 libxml2-utils img2pdf chromium chromium-driver python3-selenium keepalived conntrackd
 conntrack
 lintian man-db systemd
 logrotate
 libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui python3-uno bubblewrap
 fonts-ipafont-mincho fonts-ipaexfont-gothic fonts-ipaexfont-mincho
 libheif-examples webp"

pkgs="$BUILD_PKGS"
[ "$want" = all ] && pkgs="$pkgs $RUN_PKGS"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing" >&2
    echo "deps: run as root (or: sudo scripts/deps.sh) to install them" >&2
    exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks its configuration type; answer "Local only" before it is installed.
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string tiergate.test" | debconf-set-selections

# A fresh CI machine meets the mirror's hiccups (an index mid-update, a dropped
# download): each step is retried, and what failed is said before giving up.
update_lists() {
    local try
    for try in 1 2 3 4 5; do
        apt-get update -q </dev/null >/dev/null 2>&1 && return 0
        echo "deps: apt-get update failed (try $try), retrying" >&2
        sleep $((try * 5))
    done
    echo "deps: apt-get update kept failing; installing from the lists there are" >&2
}
update_lists
for try in 1 2 3; do
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends --fix-missing -o DPkg::Lock::Timeout=300 \
        -o Acquire::Retries=3 $missing </dev/null && exit 0
    echo "deps: apt-get install failed (try $try of 3)" >&2
    sleep $((try * 10))
    update_lists
done
echo "deps: could not install:$missing" >&2
exit 1
