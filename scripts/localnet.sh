#!/usr/bin/env bash
# A real single-node wasmd chain in Docker, for those who have Docker (not run in CI).
#
# `opg devnet` is the built-in development chain (no Docker, contracts' native code, same
# CometBFT JSON-RPC). Use this script to check against real wasmd: real wasm execution, real gas.
# Production is a real chain, never either of these.
#
#   scripts/localnet.sh            # start (RPC on 127.0.0.1:26657, chain id localwasm-1)
#   scripts/localnet.sh stop       # stop and remove the container
#
# Then: opg deploy --chain <config pointing at http://127.0.0.1:26657, prefix wasm, denom ustake>.
set -euo pipefail

IMAGE="${WASMD_IMAGE:-cosmwasm/wasmd:v0.53.0}"
NAME="${WASMD_CONTAINER:-opg-localnet}"
CHAIN_ID="${CHAIN_ID:-localwasm-1}"
# The well-known dev mnemonic of dev account 0 of `opg devnet` is printed by `opg devnet`; here the
# validator key is generated inside the container and a funded user key is added from MNEMONIC.
MNEMONIC="${MNEMONIC:-abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art}"

if [[ "${1:-start}" == "stop" ]]; then
  docker rm -f "$NAME"
  exit 0
fi

command -v docker >/dev/null || { echo "docker is required" >&2; exit 1; }

docker run -d --name "$NAME" -p 26657:26657 -p 1317:1317 -p 9090:9090 \
  -e CHAIN_ID="$CHAIN_ID" -e MNEMONIC="$MNEMONIC" --entrypoint /bin/sh "$IMAGE" -c '
set -e
wasmd init localnet --chain-id "$CHAIN_ID" --home /root/.wasmd >/dev/null 2>&1
sed -i "s/\"stake\"/\"ustake\"/g" /root/.wasmd/config/genesis.json
sed -i "s/^minimum-gas-prices = .*/minimum-gas-prices = \"0.025ustake\"/" /root/.wasmd/config/app.toml
sed -i "s/^timeout_commit = .*/timeout_commit = \"1s\"/" /root/.wasmd/config/config.toml
sed -i "s#laddr = \"tcp://127.0.0.1:26657\"#laddr = \"tcp://0.0.0.0:26657\"#" /root/.wasmd/config/config.toml
wasmd keys add validator --keyring-backend test --home /root/.wasmd >/dev/null 2>&1
echo "$MNEMONIC" | wasmd keys add user --recover --keyring-backend test --home /root/.wasmd >/dev/null 2>&1
wasmd genesis add-genesis-account validator 1000000000000ustake --keyring-backend test --home /root/.wasmd
wasmd genesis add-genesis-account user 1000000000000ustake --keyring-backend test --home /root/.wasmd
wasmd genesis gentx validator 100000000ustake --chain-id "$CHAIN_ID" --keyring-backend test --home /root/.wasmd
wasmd genesis collect-gentxs --home /root/.wasmd >/dev/null 2>&1
exec wasmd start --home /root/.wasmd
'
echo "waiting for the first block…"
for _ in $(seq 1 60); do
  if curl -fs http://127.0.0.1:26657/status 2>/dev/null | grep -q '"latest_block_height": "[1-9]'; then
    echo "wasmd is up: rpc http://127.0.0.1:26657, chain id $CHAIN_ID, denom ustake"
    exit 0
  fi
  sleep 1
done
echo "wasmd did not produce a block in 60 s; see: docker logs $NAME" >&2
exit 1
