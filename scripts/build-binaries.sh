#!/usr/bin/env bash
# Builds the real control-plane and policy-engine binaries used by the test
# tiers from Go modules, and caches them outside the repository keyed by
# version. Re-running is cheap: a complete cache directory is reused as is.
#
#   scripts/build-binaries.sh            # build (or reuse) and print the bin dir
#   scripts/build-binaries.sh --print    # print the bin dir, build nothing
set -euo pipefail

KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.36.3}"   # matches Kyverno 1.19's k8s.io/* v0.36.x
KYVERNO_VERSION="${KYVERNO_VERSION:-1.19.1}"
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"

CACHE_ROOT="${PATTERNPOLICY_CACHE:-$HOME/.cache/patternpolicy}"
KEY="k8s-${KUBERNETES_VERSION}_kyverno-${KYVERNO_VERSION}_etcd-${ETCD_VERSION}"
BIN_DIR="$CACHE_ROOT/bin/$KEY"
WORK_DIR="$CACHE_ROOT/build/$KEY"
BINARIES=(etcd kube-apiserver kube-controller-manager kyverno kyverno-admission)

if [[ "${1:-}" == "--print" ]]; then echo "$BIN_DIR"; exit 0; fi

complete() {
  for b in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
  [[ -d "$BIN_DIR/crds/kyverno" ]] || return 1
}
if complete; then echo "$BIN_DIR"; exit 0; fi

command -v go >/dev/null || { echo "error: Go toolchain not found (needed to build the test binaries)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$BIN_DIR" "$WORK_DIR"
log() { printf '[build-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

wrapper() {  # wrapper DIR MODULE VERSION [replace lines...]
  local dir="$1" module="$2" version="$3"; shift 3
  mkdir -p "$dir"
  { echo "module patternpolicy.local/$(basename "$dir")"; echo; echo "go 1.26"; echo;
    echo "require $module $version";
    for r in "$@"; do echo "replace $r"; done; } > "$dir/go.mod"
}

build_etcd() {
  [[ -x "$BIN_DIR/etcd" ]] && return 0
  log "etcd v$ETCD_VERSION"
  local d="$WORK_DIR/etcd"
  wrapper "$d" go.etcd.io/etcd/server/v3 "v$ETCD_VERSION"
  (cd "$d" && go mod download go.etcd.io/etcd/server/v3 && go build -trimpath -o "$BIN_DIR/etcd" go.etcd.io/etcd/server/v3)
}

build_kubernetes() {
  [[ -x "$BIN_DIR/kube-apiserver" && -x "$BIN_DIR/kube-controller-manager" ]] && return 0
  log "kubernetes v$KUBERNETES_VERSION"
  local d="$WORK_DIR/kubernetes" minor="v0.${KUBERNETES_VERSION#1.}"
  local gomod
  gomod="$(cd "$WORK_DIR" && go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  # k8s.io/kubernetes replaces its staging modules with ./staging paths; a
  # consumer must pin each of them to the published v0.X.Y instead.
  local replaces=()
  while read -r mod; do replaces+=("$mod => $mod $minor"); done < <(
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | sort -u)
  [[ ${#replaces[@]} -gt 10 ]] || { echo "error: found no staging replaces in $gomod" >&2; exit 1; }
  wrapper "$d" k8s.io/kubernetes "v$KUBERNETES_VERSION" "${replaces[@]}"
  (cd "$d" && go build -trimpath -o "$BIN_DIR/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager)
}

build_kyverno() {
  [[ -x "$BIN_DIR/kyverno" && -x "$BIN_DIR/kyverno-admission" && -d "$BIN_DIR/crds/kyverno" ]] && return 0
  log "kyverno v$KYVERNO_VERSION"
  local d="$WORK_DIR/kyverno" src
  src="$(cd "$WORK_DIR" && go mod download -json "github.com/kyverno/kyverno@v$KYVERNO_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  # Kyverno's go.mod carries one replace directive that consumers must repeat.
  local replaces=()
  while IFS= read -r line; do replaces+=("$line"); done < <(sed -n 's/^replace //p' "$src/go.mod")
  wrapper "$d" github.com/kyverno/kyverno "v$KYVERNO_VERSION" "${replaces[@]}"
  (cd "$d" && go build -trimpath -o "$BIN_DIR/kyverno" github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno \
           && go build -trimpath -o "$BIN_DIR/kyverno-admission" github.com/kyverno/kyverno/cmd/kyverno)
  rm -rf "$BIN_DIR/crds"; mkdir -p "$BIN_DIR/crds"
  cp -r "$src/config/crds/kyverno" "$src/config/crds/policies.kyverno.io" "$src/config/crds/policyreport" "$src/config/crds/reports" "$BIN_DIR/crds/"
  chmod -R u+w "$BIN_DIR/crds"
}

start=$(date +%s)
build_etcd
build_kubernetes
build_kyverno
complete || { echo "error: build finished but binaries are missing in $BIN_DIR" >&2; exit 1; }
log "done in $(( $(date +%s) - start ))s: $BIN_DIR"
echo "$BIN_DIR"
