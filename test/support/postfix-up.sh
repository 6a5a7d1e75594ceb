#!/usr/bin/env bash
# Starts the system's Debian Postfix as a loopback-only catch-all next hop on 127.0.0.1:$1 that files every
# recipient into one Maildir, $2/mail/sink/ (recipes: Postfix 3.7, no systemd). Needs root; idempotent.
set -euo pipefail
PORT=$1; BASE=$2; MAILBASE=$BASE/mail
export PATH="$PATH:/usr/sbin:/sbin"
mkdir -p "$MAILBASE"; chown nobody:nogroup "$MAILBASE"; chmod 755 "$BASE"
postconf -e 'inet_interfaces = 127.0.0.1' 'inet_protocols = ipv4' 'mydestination =' 'mynetworks = 127.0.0.0/8' \
  'relayhost =' 'virtual_mailbox_domains = static:all' "virtual_mailbox_base = $MAILBASE" \
  'virtual_mailbox_maps = static:sink/' 'virtual_uid_maps = static:65534' 'virtual_gid_maps = static:65534' \
  'virtual_minimum_uid = 100' "maillog_file = $BASE/postfix.log" \
  "maillog_file_prefixes = /var, /dev/stdout, /tmp, $BASE" 'smtpd_relay_restrictions = permit_mynetworks, reject' \
  'message_size_limit = 52428800' 'virtual_mailbox_limit = 0' 'biff = no' \
  'smtpd_recipient_restrictions = check_recipient_access inline:{ reject@example.net=REJECT }, permit_mynetworks, reject'
postconf -F '*/*/chroot = n'
postconf -M# 'smtp/inet' 2>/dev/null || true
for s in $(postconf -M | awk '$2=="inet" && $1 ~ /^127\.0\.0\.1:/ {print $1}'); do postconf -M# "$s/inet"; done
postconf -M "127.0.0.1:$PORT/inet=127.0.0.1:$PORT inet n - n - - smtpd"
postfix check
if postfix status >/dev/null 2>&1; then postfix reload >/dev/null 2>&1; else postfix start >/dev/null 2>&1; fi
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && exit 0; sleep 0.1; done
echo "postfix did not come up on $PORT" >&2; exit 1
