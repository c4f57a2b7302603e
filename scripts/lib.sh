# Shared by scripts/run and scripts/test: install what is missing on Debian 12, nothing more.
# shellcheck shell=bash

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# ensure_packages PKG... — apt-get install only the packages that are not installed yet (waiting
# for the package lock when another apt run holds it, rather than failing).
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> Installing Debian packages: ${missing[*]}"
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ensure_rust — cargo with clippy and rustfmt (rustup when Rust is missing altogether).
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "==> Rust is not installed: installing it with rustup (https://rustup.rs)"
    ensure_packages curl ca-certificates
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if command -v rustup >/dev/null 2>&1; then
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  fi
}

# ensure_node — Node.js and npm for bundling the window's front end (Debian's packages when missing).
ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
}

# build_ui — installs the front end's locked packages and bundles ui/dist (Tauri embeds it at
# compile time, so this runs before cargo builds the desktop crate).
build_ui() {
  ensure_node
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "==> npm ci (ui/)"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  fi
  echo "==> Bundling the front end (ui/dist)"
  (cd ui && node build.mjs)
}

# ensure_pouchdb — pouchdb-server (the CouchDB API) for the real-server tests, pinned by
# tests/pouchdb/package-lock.json.
ensure_pouchdb() {
  ensure_node
  if [ ! -x tests/pouchdb/node_modules/.bin/pouchdb-server ] || [ tests/pouchdb/package-lock.json -nt tests/pouchdb/node_modules/.package-lock.json ]; then
    echo "==> npm ci (tests/pouchdb: pouchdb-server for the real-server tests)"
    (cd tests/pouchdb && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# ensure_kinto — Kinto (PyPI) in its own virtualenv for the real-server tests, pinned by
# tests/kinto/requirements.txt.
ensure_kinto() {
  local venv=tests/kinto/.venv
  if [ ! -x "$venv/bin/kinto" ] || [ tests/kinto/requirements.txt -nt "$venv/bin/kinto" ]; then
    echo "==> pip install (tests/kinto: Kinto for the real-server tests)"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      ensure_packages python3 python3-venv
      /usr/bin/python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check -r tests/kinto/requirements.txt
    touch "$venv/bin/kinto"
  fi
}

# ensure_tauri_driver — the WebDriver bridge the end-to-end tests drive the app through.
ensure_tauri_driver() {
  if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    echo "==> cargo install tauri-driver (once)"
    cargo install tauri-driver --locked --version '^2' --quiet
  fi
}

# What building the desktop app needs (see PLATFORM notes in docs/architecture.md).
BUILD_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev)
