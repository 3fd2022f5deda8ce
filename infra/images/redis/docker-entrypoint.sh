#!/bin/sh
# Mirrors the official redis image: `docker run IMAGE --appendonly yes` means `redis-server --appendonly yes`.
set -e
case "$1" in
  -*|*.conf) set -- redis-server "$@" ;;
esac
# The official image compiles protected mode off and listens on all interfaces; Debian's binary does not.
# Put those defaults first so explicit arguments (later ones win) still override them. Not with a config
# file (it must come first and owns those settings) nor for the one-shot options.
if [ "$1" = redis-server ]; then
  case "${2:-}" in
    *.conf | -v | --version | -h | --help | --test-memory | --check-system) ;;
    *) shift; set -- redis-server --bind 0.0.0.0 --protected-mode no "$@" ;;
  esac
fi
exec "$@"
