#!/usr/bin/env bash
# Builds the real control-plane and policy-engine binaries used by the test
# tiers from Go modules, and caches them outside the repository keyed by
# version. Re-running is cheap: a complete cache directory is reused as is.
#
#   scripts/build-binaries.sh            # build (or reuse) and print the bin dir
#   scripts/build-binaries.sh --print    # print the bin dir, build nothing
#   scripts/build-binaries.sh --kyverno-cli OUT   # only the Kyverno CLI, to OUT (the Dockerfile's build stage)
set -euo pipefail

KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.36.3}"   # matches Kyverno 1.19's k8s.io/* v0.36.x
KYVERNO_VERSION="${KYVERNO_VERSION:-1.19.1}"
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"
HELM_VERSION="${HELM_VERSION:-3.22.0}"               # the chart's tests: lint, template, install
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-5.8.2}"      # deploy/ is a kustomize base: built as `kubectl apply -k` would

CACHE_ROOT="${PATTERNPOLICY_CACHE:-$HOME/.cache/patternpolicy}"
KEY="k8s-${KUBERNETES_VERSION}_kyverno-${KYVERNO_VERSION}_etcd-${ETCD_VERSION}_helm-${HELM_VERSION}_kustomize-${KUSTOMIZE_VERSION}"
BIN_DIR="$CACHE_ROOT/bin/$KEY"
WORK_DIR="$CACHE_ROOT/build/$KEY"
BINARIES=(etcd kube-apiserver kube-controller-manager kyverno kyverno-admission helm kustomize)

if [[ "${1:-}" == "--print" ]]; then echo "$BIN_DIR"; exit 0; fi
if [[ "${1:-}" == "--kyverno-cli" ]]; then
  [[ -n "${2:-}" ]] || { echo "usage: $0 --kyverno-cli OUT" >&2; exit 2; }
  KYVERNO_CLI_OUT="$(realpath -m "$2")"
fi

complete() {
  for b in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
  [[ -d "$BIN_DIR/crds/kyverno" ]] || return 1
}
if [[ -z "${KYVERNO_CLI_OUT:-}" ]] && complete; then echo "$BIN_DIR"; exit 0; fi

command -v go >/dev/null || { echo "error: Go toolchain not found (needed to build the test binaries)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
log() { printf '[build-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

wrapper() {  # wrapper DIR MODULE VERSION [replace lines...]
  local dir="$1" module="$2" version="$3"; shift 3
  mkdir -p "$dir"
  { echo "module patternpolicy.local/$(basename "$dir")"; echo; echo "go 1.26"; echo;
    echo "require $module $version";
    for r in "$@"; do echo "replace $r"; done; } > "$dir/go.mod"
}

# A binary whose own version did not change is taken from an older cache directory (a hard link, else a
# copy) instead of being rebuilt: adding a tool to the key must not cost a full rebuild of the others.
reuse() {  # reuse TAG FILE...   TAG is one part of a key, e.g. etcd-3.6.8
  local tag="$1" dir f; shift
  for dir in "$CACHE_ROOT"/bin/*/; do
    dir="${dir%/}"
    [[ "$dir" != "$BIN_DIR" && "_$(basename "$dir")_" == *"_${tag}_"* ]] || continue
    for f in "$@"; do [[ -e "$dir/$f" ]] || continue 2; done
    for f in "$@"; do rm -rf "${BIN_DIR:?}/$f"; cp -al "$dir/$f" "$BIN_DIR/" 2>/dev/null || cp -a "$dir/$f" "$BIN_DIR/"; done
    log "reused $* from $dir"
    return 0
  done
  return 1
}

build_etcd() {
  [[ -x "$BIN_DIR/etcd" ]] && return 0
  reuse "etcd-$ETCD_VERSION" etcd && return 0
  log "etcd v$ETCD_VERSION"
  local d="$WORK_DIR/etcd"
  wrapper "$d" go.etcd.io/etcd/server/v3 "v$ETCD_VERSION"
  (cd "$d" && go mod download go.etcd.io/etcd/server/v3 && go build -trimpath -o "$BIN_DIR/etcd" go.etcd.io/etcd/server/v3)
}

build_kubernetes() {
  [[ -x "$BIN_DIR/kube-apiserver" && -x "$BIN_DIR/kube-controller-manager" ]] && return 0
  reuse "k8s-$KUBERNETES_VERSION" kube-apiserver kube-controller-manager && return 0
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

kyverno_source() {  # the module's directory; writes the wrapper module (with Kyverno's own replaces) into $1
  local d="$1" src
  src="$(cd "$WORK_DIR" && go mod download -json "github.com/kyverno/kyverno@v$KYVERNO_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  # Kyverno's go.mod carries one replace directive that consumers must repeat.
  local replaces=()
  while IFS= read -r line; do replaces+=("$line"); done < <(sed -n 's/^replace //p' "$src/go.mod")
  wrapper "$d" github.com/kyverno/kyverno "v$KYVERNO_VERSION" "${replaces[@]}"
  echo "$src"
}

build_kyverno() {
  [[ -x "$BIN_DIR/kyverno" && -x "$BIN_DIR/kyverno-admission" && -d "$BIN_DIR/crds/kyverno" ]] && return 0
  reuse "kyverno-$KYVERNO_VERSION" kyverno kyverno-admission crds && return 0
  log "kyverno v$KYVERNO_VERSION"
  local d="$WORK_DIR/kyverno" src
  src="$(kyverno_source "$d")"
  (cd "$d" && go build -trimpath -o "$BIN_DIR/kyverno" github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno \
           && go build -trimpath -o "$BIN_DIR/kyverno-admission" github.com/kyverno/kyverno/cmd/kyverno)
  rm -rf "$BIN_DIR/crds"; mkdir -p "$BIN_DIR/crds"
  cp -r "$src/config/crds/kyverno" "$src/config/crds/policies.kyverno.io" "$src/config/crds/policyreport" "$src/config/crds/reports" "$BIN_DIR/crds/"
  chmod -R u+w "$BIN_DIR/crds"
}

build_kyverno_cli() {  # the CLI alone, for the operator image: the same module, version and replaces as above
  local d="$WORK_DIR/kyverno-cli"
  kyverno_source "$d" >/dev/null
  (cd "$d" && go build -trimpath -o "$KYVERNO_CLI_OUT" \
                 -ldflags "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=v$KYVERNO_VERSION" \
                 github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno)
}

build_helm() {
  [[ -x "$BIN_DIR/helm" ]] && return 0
  reuse "helm-$HELM_VERSION" helm && return 0
  log "helm v$HELM_VERSION"
  local d="$WORK_DIR/helm" minor
  wrapper "$d" helm.sh/helm/v3 "v$HELM_VERSION"
  # Helm's Makefile stamps its version and the Kubernetes version `helm template`/`lint` assume (else 1.20).
  (cd "$d" && go mod download helm.sh/helm/v3 && minor="$(go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)" \
           && go build -trimpath -o "$BIN_DIR/helm" -ldflags "-s -w \
                -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION \
                -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor \
                -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" \
              helm.sh/helm/v3/cmd/helm)
}

build_kustomize() {
  [[ -x "$BIN_DIR/kustomize" ]] && return 0
  reuse "kustomize-$KUSTOMIZE_VERSION" kustomize && return 0
  log "kustomize v$KUSTOMIZE_VERSION"
  local d="$WORK_DIR/kustomize"
  wrapper "$d" sigs.k8s.io/kustomize/kustomize/v5 "v$KUSTOMIZE_VERSION"
  (cd "$d" && go mod download sigs.k8s.io/kustomize/kustomize/v5 \
           && go build -trimpath -ldflags '-s -w' -o "$BIN_DIR/kustomize" sigs.k8s.io/kustomize/kustomize/v5)
}

if [[ -n "${KYVERNO_CLI_OUT:-}" ]]; then
  mkdir -p "$WORK_DIR"
  build_kyverno_cli
  exit 0
fi

mkdir -p "$BIN_DIR" "$WORK_DIR"
start=$(date +%s)
build_etcd
build_kubernetes
build_kyverno
build_helm
build_kustomize
complete || { echo "error: build finished but binaries are missing in $BIN_DIR" >&2; exit 1; }
log "done in $(( $(date +%s) - start ))s: $BIN_DIR"
echo "$BIN_DIR"
