#!/usr/bin/env bash
# Installs the real tools the tests run, from Debian's packages, when they are missing (headless Chromium and
# its WebDriver open the preview pages).
# As root on Debian this is all `make test` needs; elsewhere it says what to install.
set -euo pipefail

declare -A PACKAGE_FOR=(
  [promtool]=prometheus
  [prometheus]=prometheus
  [amtool]=prometheus-alertmanager
  [prometheus-alertmanager]=prometheus-alertmanager
  [mariadbd]=mariadb-server
  [chromium]=chromium
  [chromedriver]=chromium-driver
  [openssl]=openssl  # a self-signed certificate for the TLS tests of publish
)
# Other names that do as well: GitHub's Ubuntu runners come with Google Chrome and a matching chromedriver.
declare -A ALSO=([chromium]="google-chrome chromium-browser")
missing=()
for tool in "${!PACKAGE_FOR[@]}"; do
  found=""
  for name in "$tool" ${ALSO[$tool]:-}; do
    if command -v "$name" >/dev/null 2>&1 || [ -x "/usr/sbin/$name" ]; then found=1; fi
  done
  [ -n "$found" ] || missing+=("${PACKAGE_FOR[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-tools: missing Debian packages: $packages(run as root on Debian, or install them yourself)" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "install-tools: installing $packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packages from starting their own daemons: the tests start what they need.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $packages >/dev/null
