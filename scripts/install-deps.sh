#!/bin/sh
# Installs the Debian packages threadsim needs to build, test and draw, but
# only those that are missing: a machine that has them all is left untouched
# and needs neither network nor root.
set -eu

PACKAGES="build-essential cmake pkg-config libcjson-dev libcmocka-dev clang
libclang-rt-14-dev python3 python3-jsonschema libsdl2-dev libsdl2-ttf-dev
libsdl2-image-dev libfontconfig-dev fonts-dejavu-core fonts-wqy-microhei libxml2-utils xvfb"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages are installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: apt-get not found; install them with your package manager" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    # Without a terminal (CI) sudo must fail at once rather than wait for a password.
    if [ -t 0 ]; then as_root="sudo"; else as_root="sudo -n"; fi
else
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run this script as root, or install sudo" >&2
    exit 1
fi

echo "install-deps: installing$missing"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update
# shellcheck disable=SC2086 # the list is meant to split into words
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
