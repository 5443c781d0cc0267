#!/usr/bin/env bash
# One command installs everything sleepy needs on a Debian-like machine (CPU only).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
      || echo "note: could not install bubblewrap; the sandbox will fall back to rlimits only" >&2
  else
    echo "note: install bubblewrap (apt-get install bubblewrap) for full sandbox isolation" >&2
  fi
fi
# Headless Chromium drives the dashboard's end-to-end test (Debian's chromium + its matching driver).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
      || echo "note: could not install chromium; the dashboard browser test will be skipped" >&2
  else
    echo "note: install chromium and chromium-driver for the dashboard's browser test" >&2
  fi
fi
# PostgreSQL is optional (SQLite is the default store); its server binaries let the PostgreSQL store's
# tests start a throwaway cluster. Debian keeps initdb off PATH, under /usr/lib/postgresql/*/bin.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1 \
      || echo "note: could not install postgresql; the PostgreSQL store tests will be skipped" >&2
  else
    echo "note: install postgresql (apt-get install postgresql) to run the PostgreSQL store tests" >&2
  fi
fi
# Real crates for `sleepy fix` tests and benchmarks/real_projects.py: Debian's crate sources build offline
# through a Cargo source replacement (/usr/share/cargo/registry), as Debian's own packaging does.
CRATES="semver serde serde-derive itoa fnv hex either scopeguard strsim heck glob same-file unicode-width memchr base64 bitflags"
if ! ls /usr/share/cargo/registry/semver-* >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      $(for c in $CRATES; do echo "librust-$c-dev"; done)) >/dev/null 2>&1 \
      || echo "note: could not install Debian's librust-*-dev crates; the real-crate tests will be skipped" >&2
  else
    echo "note: apt-get install librust-semver-dev (and others) for the real-crate tests of sleepy fix" >&2
  fi
fi
# Real Python packages with their own tests (PyPI sdists) for `sleepy fix` on Python and
# benchmarks/project_learning.py; kept in the user's cache.
SDISTS="${XDG_CACHE_HOME:-$HOME/.cache}/sleepy/sdists"
mkdir -p "$SDISTS"
for sdist in inflection==0.5.1 more-itertools==10.5.0 parse==1.20.2 tabulate==0.9.0 toolz==0.12.1 \
    jmespath==1.0.1 cachetools==5.5.0 wcwidth==0.2.13 xmltodict==0.13.0; do
  if ! ls "$SDISTS/${sdist%%==*}-${sdist##*==}.tar.gz" >/dev/null 2>&1; then
    python3 -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps "$sdist" \
      -d "$SDISTS" >/dev/null 2>&1 || echo "note: could not download the $sdist sdist; what uses it is skipped" >&2
  fi
done
command -v rustc >/dev/null 2>&1 || echo "note: rustc not found: the Rust pack needs it (apt-get install rustc); the Python pack works without it" >&2
# torch is pinned to the CPU build so pip does not pull a multi-GB CUDA build.
python3 -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
python3 -m pip install --quiet --disable-pip-version-check -e ".[model,dev]"
# llama.cpp's Python binding and server, for the GGUF export's round-trip test and `day --backend openai`
# against llama.cpp. PyPI has no CPU wheel: pip builds it from source (cmake, a C++ compiler; minutes).
if ! python3 -c "import llama_cpp.server" >/dev/null 2>&1; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    python3 -m pip install --quiet --disable-pip-version-check "llama-cpp-python[server]==0.3.36" \
    || echo "note: could not build llama-cpp-python; the llama.cpp round-trip tests will be skipped" >&2
fi
echo "sleepy installed: try 'sleepy --help'"
