#!/usr/bin/env bash
# Builds the Errand container image with the Docker engine this machine has.
#
#   docker/build.sh [IMAGE]        (default IMAGE: errand:latest)
#
# Where no image registry is reachable and `debian:bookworm` /
# `debian:bookworm-slim` are not present locally, it makes them: debootstrap a
# minimal bookworm from the Debian mirror the host uses, then `docker import`.
# The host's extra CA certificates (/usr/local/share/ca-certificates) are copied
# into a temporary build context directory so package downloads inside the build
# trust the same roots as the host; they are never part of the repository.
#
# Environment:
#   ERRAND_BUILD_NICE   nice level of the compile inside the build (default 15:
#                       the machine is shared; 0 for full speed)
#   ERRAND_DEBIAN_MIRROR  Debian mirror (default: the host's, else deb.debian.org)
#   DOCKER              docker client to use (default: docker)
set -euo pipefail

IMAGE="${1:-errand:latest}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NICE="${ERRAND_BUILD_NICE:-15}"
DOCKER="${DOCKER:-docker}"

log() { printf '[build.sh] %s\n' "$*" >&2; }

# --- The Debian mirror the host uses (deb822 or one-line sources). ----------
host_mirror() {
  local uri=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    uri="$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null |
      grep -E '/debian/?$' | head -n1 || true)"
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list || true)"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${ERRAND_DEBIAN_MIRROR:-$(host_mirror)}"
SECURITY_MIRROR="${MIRROR%/debian}/debian-security"
[[ "$MIRROR" == */debian ]] || SECURITY_MIRROR="http://deb.debian.org/debian-security"

# --- The engine. --------------------------------------------------------------
if ! "$DOCKER" info >/dev/null 2>&1; then
  log "the Docker engine does not answer; start it (e.g. 'dockerd > /tmp/dockerd.log 2>&1 &')"
  exit 1
fi

# BuildKit gives the ccache cache mount in the Dockerfile. Docker >= 23 uses it
# by default through the buildx plugin; a 20.10 client (Debian's docker.io) has
# it built in behind DOCKER_BUILDKIT=1. A newer client without buildx cannot use
# it, so fall back to Debian's client when it is installed next to it.
pick_buildkit_client() {
  local c
  for c in "$DOCKER" /usr/bin/docker; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" buildx version >/dev/null 2>&1; then echo "$c"; return 0; fi
    local major
    major="$("$c" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 || true)"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 23)); then echo "$c"; return 0; fi
  done
  return 1
}
if ! BUILD_CLIENT="$(pick_buildkit_client)"; then
  log "no BuildKit-capable docker client (install docker-buildx, or Debian's docker.io)"
  exit 1
fi

# --- Base images. -------------------------------------------------------------
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

make_base_images() {
  local tmp
  tmp="$(mktemp -d /tmp/errand-debootstrap.XXXXXX)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
  fi
  log "debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$tmp/root" "$MIRROR" >"$tmp/debootstrap.log" 2>&1 || {
    tail -n 30 "$tmp/debootstrap.log" >&2
    exit 1
  }
  # The same suites as the host: release, updates and security.
  rm -f "$tmp/root/etc/apt/sources.list"
  cat >"$tmp/root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # What Debian's official images set up for containers.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/root/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/root/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$tmp/root/etc/apt/apt.conf.d/90container"
  rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*
  log "importing debian:bookworm"
  tar -C "$tmp/root" -c . | "$DOCKER" import -c 'CMD ["bash"]' - debian:bookworm >/dev/null

  # The slim variant: no documentation, man pages or translations, and dpkg
  # told not to install them again (as Debian's -slim images are made).
  cat >"$tmp/root/etc/dpkg/dpkg.cfg.d/90container-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
SLIM
  find "$tmp/root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$tmp/root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$tmp/root/usr/share/man/"* "$tmp/root/usr/share/info/"* "$tmp/root/usr/share/locale/"*
  log "importing debian:bookworm-slim"
  tar -C "$tmp/root" -c . | "$DOCKER" import -c 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  rm -rf "$tmp"
}

if ! have_image debian:bookworm || ! have_image debian:bookworm-slim; then
  if ! "$DOCKER" pull -q debian:bookworm >/dev/null 2>&1 ||
    ! "$DOCKER" pull -q debian:bookworm-slim >/dev/null 2>&1; then
    log "debian:bookworm not available from a registry; making it locally"
    make_base_images
  fi
fi

# --- Build. -------------------------------------------------------------------
# The host's extra CA certificates are staged in docker/ca-certificates/
# (where git ignores *.crt) for the duration of the build; the build stage
# trusts them, the runtime image does not contain them.
CA_DIR="$ROOT/docker/ca-certificates"
staged=()
cleanup_ca() { ((${#staged[@]} == 0)) || rm -f "${staged[@]}"; }
trap cleanup_ca EXIT
for crt in /usr/local/share/ca-certificates/*.crt; do
  [[ -f "$crt" ]] || continue
  dest="$CA_DIR/host-$(basename "$crt")"
  cp "$crt" "$dest"
  staged+=("$dest")
done
((${#staged[@]} == 0)) || log "staged ${#staged[@]} extra CA certificate(s) from the host"

log "building $IMAGE (client: $BUILD_CLIENT, compile nice $NICE)"
start=$(date +%s)
DOCKER_BUILDKIT=1 "$BUILD_CLIENT" build \
  --progress=plain \
  --build-arg "BUILD_NICE=$NICE" \
  -f "$ROOT/docker/Dockerfile" -t "$IMAGE" "$ROOT"
log "built $IMAGE in $(($(date +%s) - start)) s"
"$DOCKER" images "${IMAGE%%:*}"
