#!/usr/bin/env bash
# The test suite, as the README's quick start and CI run it: installs what the tests need when it is missing, then
# runs `dotnet test -c Release` (extra arguments are passed on, e.g. --filter). The tests open LeakAssert's .pb.gz
# files with the real `go tool pprof` (Debian's golang-go) and render the HTML report in headless Chromium (Debian's
# chromium); they also run the demo and child `dotnet test` runs, and trace themselves through EventPipe.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "LeakAssert's tests need the .NET 10 SDK (dotnet) on PATH: https://dot.net/download" >&2
  exit 1
fi

missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "LeakAssert's tests need ${missing[*]} (Go's pprof and Chromium); install them with your package manager." >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${missing[*]} for go tool pprof and headless Chromium"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

exec dotnet test -c Release "$@"
