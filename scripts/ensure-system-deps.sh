#!/usr/bin/env bash
# Install the Debian packages Micboard's tests and demo need, when missing:
# redis-server (live state and channel layer), chromium (browser tests), docker-compose
# (validates docker-compose.yml without a Docker daemon: tests/test_deploy.py) and mosquitto
# with its clients (the MQTT output's tests run a throwaway broker; mosquitto_passwd).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install: ${missing[*]} (Debian: apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "Installing ${missing[*]} ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
