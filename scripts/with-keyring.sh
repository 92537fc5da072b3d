#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring, so keychain
# tests talk to a real Secret Service. Without dbus-run-session or gnome-keyring it runs
# the command as it is (the keychain tests then skip and say why).
set -euo pipefail
if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "with-keyring: no dbus-run-session/gnome-keyring here; keychain tests will skip" >&2
  exec "$@"
fi
REAL_HOME="$HOME"
HOME="$(mktemp -d)"
XDG_RUNTIME_DIR="$(mktemp -d)"
chmod 700 "$XDG_RUNTIME_DIR"
export HOME XDG_RUNTIME_DIR GATEHOUSE_TEST_KEYRING=1
# npm must keep using the real user's config (registry, nodedir) and cache.
export npm_config_userconfig="${npm_config_userconfig:-$REAL_HOME/.npmrc}" npm_config_cache="${npm_config_cache:-$REAL_HOME/.npm}"
exec dbus-run-session -- bash -c '
  printf %s test-pass | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  KR=$!
  trap "kill $KR 2>/dev/null; wait $KR 2>/dev/null" EXIT
  for _ in $(seq 50); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.1
  done
  "$@"
' with-keyring "$@"
