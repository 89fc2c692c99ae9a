#!/usr/bin/env bash
# postfix-instance.sh -- a private Postfix 3.7 instance for tests: own config, queue and log under DIR; /etc/postfix untouched.
#   postfix-instance.sh DIR NAME PORT [main.cf lines...]    creates DIR/etc, DIR/queue; starts it on 127.0.0.1:PORT
set -eu
dir=$1 name=$2 port=$3
shift 3
mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
chown root:root "$dir/queue"
chown postfix "$dir/data"
# master.cf: the Debian one, with smtpd on our loopback port instead of :25, no chroot
sed -e 's/^smtp \( *\)inet.*/127.0.0.1:'"$port"' inet n - n - - smtpd/' \
	-e 's/^\([a-z]* *\(unix\|unix-dgram\|inet\|fifo\|pass\) *[-ny] *[-ny] *\)y /\1n /' \
	/etc/postfix/master.cf >"$dir/etc/master.cf"
cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
meta_directory = /etc/postfix
myhostname = $name.tiergate.test
mydomain = tiergate.test
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
alias_maps =
alias_database =
home_mailbox = Maildir/
smtpd_banner = \$myhostname ESMTP
biff = no
smtp_dns_support_level = disabled
disable_dns_lookups = yes
CF
for line in "$@"; do printf '%s\n' "$line" >>"$dir/etc/main.cf"; done
postfix -c "$dir/etc" set-permissions >/dev/null 2>&1 || true
postfix -c "$dir/etc" check
postfix -c "$dir/etc" start
