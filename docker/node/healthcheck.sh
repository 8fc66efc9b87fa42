#!/bin/bash
# The image's HEALTHCHECK: the admin API's /healthz answers 200 (503 while draining). Plain bash
# (/dev/tcp), so the image needs no curl.
exec 3<>"/dev/tcp/127.0.0.1/${FLOTILLA_ADMIN_PORT:-9090}" || exit 1
printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r -t 2 status <&3 || exit 1
case $status in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) echo "healthz: $status"; exit 1 ;;
esac
