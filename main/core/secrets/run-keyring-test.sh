#!/usr/bin/env bash
# Runs the secret store tests against a real, unlocked gnome-keyring Secret Service on a
# private D-Bus session (see shared/research/keychain-testing.md). Needs gnome-keyring and dbus.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HOME="$(mktemp -d)" XDG_RUNTIME_DIR="$(mktemp -d)"; chmod 700 "$XDG_RUNTIME_DIR"
export GATEHOUSE_TEST_KEYRING=1
exec dbus-run-session -- bash -c '
  printf %s test-pass | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null &
  KR=$!; trap "kill $KR 2>/dev/null; wait $KR 2>/dev/null" EXIT
  for i in $(seq 50); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q "boolean true" && break
    sleep 0.1
  done
  npx vitest run main/core/secrets'
