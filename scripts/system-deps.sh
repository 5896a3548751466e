#!/usr/bin/env bash
# Checks the Debian packages the portal needs; installs them when run as root,
# otherwise prints the exact command and stops.
#   scripts/system-deps.sh run    # WeasyPrint libraries, a Japanese font and poppler-utils
#                                 # (pdftotext: the text of PDF attachments is scanned for
#                                 # identifying words before reviewers see them)
#   scripts/system-deps.sh test   # the same, plus chromium
#   scripts/system-deps.sh bench  # the run packages, plus wrk (the HTTP load generator of bench/)
set -euo pipefail
mode="${1:-run}"
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-ipaexfont poppler-utils)
if [ "$mode" = "test" ]; then
  packages+=(chromium)
elif [ "$mode" = "bench" ]; then
  packages+=(wrk)
fi
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "These system packages are missing: ${missing[*]}" >&2
  echo "Install them with:  sudo sh -c '$command'" >&2
  exit 1
fi
