#!/usr/bin/env bash
# Build the pinned wasmd (chain/wasmd/go.mod) once and print the binary's path.
#
#   scripts/build-wasmd.sh            # -> $OPG_WASMD_BIN or chain/wasmd/bin/wasmd
#   OPG_WASMD_REBUILD=1 scripts/build-wasmd.sh
#
# The binary is rebuilt only when chain/wasmd/go.mod or go.sum changed since the last build
# (a stamp next to the binary holds their hash). Go's module cache ($GOMODCACHE) and build cache
# ($GOCACHE) make a rebuild on the same machine fast; a fresh machine downloads ~1 GB of modules.
# Flags follow wasmd's Makefile: `-tags netgo`, `-ldflags -checklinkname=0` (sonic/loader links
# runtime internals, which Go >= 1.23's linker otherwise refuses), version strings, `-trimpath`.
# cgo links wasmvm's prebuilt libwasmvm.x86_64.so straight from the module cache (rpath), so the
# binary needs that cache at run time; `ldd "$(scripts/build-wasmd.sh)"` shows it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD="$ROOT/chain/wasmd"
BIN="${OPG_WASMD_BIN:-$MOD/bin/wasmd}"
STAMP="$BIN.stamp"

# Go's official tarball installs to /usr/local/go without touching PATH
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="$PATH:/usr/local/go/bin"
fi
if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<'MSG'
error: `go` not found on PATH. The local chain is wasmd built from Go modules (chain/wasmd/go.mod):
install Go >= 1.24 (https://go.dev/dl/) and gcc, or point OPG_WASMD_BIN at a wasmd v0.61.14 binary.
MSG
  exit 1
fi
if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
  echo "error: wasmd links wasmvm with cgo: install gcc (apt-get install gcc)" >&2
  exit 1
fi

want="$(cat "$MOD/go.mod" "$MOD/go.sum" | sha256sum | cut -d' ' -f1)"
if [[ -z "${OPG_WASMD_REBUILD:-}" && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "$BIN"
  exit 0
fi

version="$(grep -oE 'github.com/CosmWasm/wasmd v[0-9][^ ]*' "$MOD/go.mod" | head -n 1 | cut -d' ' -f2)"
mkdir -p "$(dirname "$BIN")"
start=$SECONDS
echo "building wasmd $version (Go modules in chain/wasmd; first build downloads modules, ~10 min on 2 cores)..." >&2
(
  cd "$MOD"
  CGO_ENABLED=1 go build -mod=readonly -trimpath -tags netgo \
    -ldflags "-checklinkname=0 \
      -X github.com/cosmos/cosmos-sdk/version.Name=wasm \
      -X github.com/cosmos/cosmos-sdk/version.AppName=wasmd \
      -X github.com/cosmos/cosmos-sdk/version.Version=$version \
      -X github.com/CosmWasm/wasmd/app.Bech32Prefix=wasm \
      -X github.com/cosmos/cosmos-sdk/version.BuildTags=netgo" \
    -o "$BIN.tmp" github.com/CosmWasm/wasmd/cmd/wasmd
)
mv "$BIN.tmp" "$BIN"
echo "$want" >"$STAMP"
echo "built $BIN ($version) in $((SECONDS - start))s" >&2
echo "$BIN"
