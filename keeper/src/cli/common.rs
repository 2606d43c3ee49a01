//! What `opg deploy|node|gov|query` share: the chain connection flags, signing and sending a tx
//! (or printing it unsigned with `--generate-only`), smart queries, and decoding tx results.
use std::path::PathBuf;

use anyhow::Context;
use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::proto::cosmwasm::wasm::v1::{
    QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmrs::Any;
use cosmwasm_std::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::chain::cosmos::{
    CometRpc, CosmosChain, CosmosConfig, DeployState, HttpRpc, SMART_QUERY_PATH,
};
use crate::chain::Deployment;
use crate::tx::keys::{bech32_address, MnemonicSource, TxKey, DEFAULT_HD_PATH};
use crate::tx::msgs::WasmMsg;
use crate::tx::sign::{GasPrice, TxSpec};

/// Connection and signing flags of the commands that talk to a cosmos chain.
#[derive(clap::Args, Clone, Debug)]
pub struct ChainArgs {
    /// CometBFT RPC URL.
    #[arg(long, env = "OPG_NODE", default_value = "http://127.0.0.1:26657")]
    pub node: String,
    /// The deploy state `opg deploy` wrote (contract addresses, chain id).
    #[arg(long, env = "OPG_DEPLOY_STATE", default_value = "deploy.json")]
    pub state: PathBuf,
    /// Chain id (default: the deploy state's).
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Bech32 account prefix.
    #[arg(long, default_value = "wasm")]
    pub prefix: String,
    /// Gas price, e.g. `0.025uopg` (fee = gas × price, rounded up).
    #[arg(long, default_value = "0.025uopg")]
    pub gas_price: String,
    /// Simulated gas is multiplied by this.
    #[arg(long, default_value = "1.3")]
    pub gas_adjustment: Decimal,
    /// File holding the signer's BIP-39 mnemonic.
    #[arg(long, conflicts_with = "mnemonic_env")]
    pub mnemonic_file: Option<PathBuf>,
    /// Environment variable holding the signer's mnemonic.
    #[arg(long)]
    pub mnemonic_env: Option<String>,
    /// HD derivation path.
    #[arg(long, default_value = DEFAULT_HD_PATH)]
    pub hd_path: String,
    /// Print the unsigned tx as JSON (as `wasmd --generate-only`) instead of sending it.
    #[arg(long)]
    pub generate_only: bool,
    /// Sender address for `--generate-only` without a key.
    #[arg(long)]
    pub from: Option<String>,
    /// Gas limit of a `--generate-only` tx (no simulation is done then).
    #[arg(long, default_value_t = 200_000)]
    pub gas: u64,
    /// Seconds to wait for a tx to be included.
    #[arg(long, default_value_t = 60)]
    pub inclusion_timeout: u64,
}

impl ChainArgs {
    /// The deploy state file. Errors: unreadable or invalid (naming the file).
    pub fn deploy_state(&self) -> anyhow::Result<DeployState> {
        Ok(DeployState::read(&self.state)?)
    }

    /// The chain id: `--chain-id`, else the deploy state's.
    pub fn chain_id(&self) -> anyhow::Result<String> {
        match &self.chain_id {
            Some(c) => Ok(c.clone()),
            None => Ok(self
                .deploy_state()
                .context("give --chain-id or a readable --state")?
                .chain_id),
        }
    }

    fn source(&self) -> Option<MnemonicSource> {
        self.mnemonic_file
            .clone()
            .map(MnemonicSource::File)
            .or_else(|| self.mnemonic_env.clone().map(MnemonicSource::Env))
    }

    /// The signing key, if a mnemonic source is given.
    pub fn key(&self) -> anyhow::Result<Option<TxKey>> {
        match self.source() {
            Some(s) => Ok(Some(TxKey::from_source(&s, &self.hd_path, &self.prefix)?)),
            None => Ok(None),
        }
    }

    /// The sender: the key's address, else `--from` (with `--generate-only`).
    pub fn sender(&self) -> anyhow::Result<String> {
        match (self.key()?, &self.from) {
            (Some(k), _) => Ok(k.address().to_string()),
            (None, Some(f)) if self.generate_only => Ok(f.clone()),
            _ => anyhow::bail!(
                "give --mnemonic-file or --mnemonic-env (or --from with --generate-only)"
            ),
        }
    }

    /// The backend config for `chain_id` (the key is passed separately).
    pub fn cosmos_config(&self, chain_id: &str) -> CosmosConfig {
        let mut c = CosmosConfig::new(&self.node, chain_id, &self.gas_price);
        c.prefix = self.prefix.clone();
        c.gas_adjustment = self.gas_adjustment;
        c.hd_path = self.hd_path.clone();
        c.mnemonic_file = self.mnemonic_file.clone();
        c.mnemonic_env = self.mnemonic_env.clone();
        c.inclusion_timeout_secs = self.inclusion_timeout.max(1);
        c.poll_interval_ms = 200;
        c
    }

    /// A signing connection (no deployment needed). Errors: no key, node unreachable, wrong
    /// chain id.
    pub fn signer(&self, chain_id: &str) -> anyhow::Result<CosmosChain> {
        let key = self
            .key()?
            .context("signing needs --mnemonic-file or --mnemonic-env")?;
        let rpc = HttpRpc::new(&self.node)?;
        Ok(CosmosChain::signer(
            self.cosmos_config(chain_id),
            Box::new(rpc),
            key,
        )?)
    }

    /// Signs and sends `msgs` (or prints them unsigned with `--generate-only`); the JSON to print.
    pub fn submit(&self, msgs: Vec<WasmMsg>) -> anyhow::Result<serde_json::Value> {
        if self.generate_only {
            let price: GasPrice = self.gas_price.parse()?;
            let spec = TxSpec {
                msgs,
                fee: price.fee(self.gas)?,
                memo: String::new(),
                timeout_height: 0,
            };
            return Ok(serde_json::from_str(&spec.unsigned_json()?)?);
        }
        let chain = self.signer(&self.chain_id()?)?;
        let sent = send(&chain, msgs)?;
        Ok(sent.to_json())
    }
}

/// A committed tx, with its per-message responses.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Uppercase hex hash.
    pub tx_hash: String,
    /// Inclusion height.
    pub height: u64,
    /// Gas used.
    pub gas_used: u64,
    /// `TxMsgData.msg_responses`, one per message.
    pub responses: Vec<Any>,
}

impl Sent {
    /// `{"txhash","height","gas_used","data"}`; `data` is the first execute response's data, as
    /// JSON when it is JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let data = self
            .responses
            .first()
            .filter(|a| a.type_url == "/cosmwasm.wasm.v1.MsgExecuteContractResponse")
            .and_then(|a| {
                cosmrs::proto::cosmwasm::wasm::v1::MsgExecuteContractResponse::decode(
                    a.value.as_slice(),
                )
                .ok()
            })
            .filter(|r| !r.data.is_empty())
            .map(|r| {
                serde_json::from_slice::<serde_json::Value>(&r.data)
                    .unwrap_or_else(|_| serde_json::Value::String(hex::encode(&r.data)))
            });
        serde_json::json!({
            "txhash": self.tx_hash,
            "height": self.height,
            "gas_used": self.gas_used,
            "data": data,
        })
    }

    /// The `index`-th response decoded as `M`. Errors: missing or of another type.
    pub fn response<M: Message + Default + cosmrs::proto::traits::Name>(
        &self,
        index: usize,
    ) -> anyhow::Result<M> {
        let any = self
            .responses
            .get(index)
            .with_context(|| format!("tx {} has no message response #{index}", self.tx_hash))?;
        anyhow::ensure!(
            any.type_url == M::type_url(),
            "tx {}: response #{index} is {}, expected {}",
            self.tx_hash,
            any.type_url,
            M::type_url()
        );
        Ok(M::decode(any.value.as_slice())?)
    }
}

/// Signs `msgs` with the chain's key (simulated gas, queried sequence), sends them and waits for
/// inclusion. Errors: those of [`CosmosChain::send`] (refusal at CheckTx with a hint, contract
/// error, timeout).
pub fn send(chain: &CosmosChain, msgs: Vec<WasmMsg>) -> anyhow::Result<Sent> {
    let tx = chain.build_signed(msgs.clone(), "")?;
    let r = chain.send(tx, &msgs, "")?;
    let d = TxMsgData::decode(r.data.as_slice()).context("cannot decode the tx result data")?;
    Ok(Sent {
        tx_hash: r.hash,
        height: r.height,
        gas_used: r.gas_used,
        responses: d.msg_responses,
    })
}

/// A smart query of `contract` over any [`CometRpc`]; the decoded answer.
/// Errors: the contract refused (unknown contract, bad query) or the answer does not decode.
pub fn smart_query<T: DeserializeOwned>(
    rpc: &dyn CometRpc,
    contract: &str,
    msg: &impl Serialize,
) -> anyhow::Result<T> {
    let req = QuerySmartContractStateRequest {
        address: contract.into(),
        query_data: serde_json::to_vec(msg)?,
    }
    .encode_to_vec();
    let a = rpc.abci_query(SMART_QUERY_PATH, req)?;
    anyhow::ensure!(
        a.code == 0,
        "query of contract {contract} failed ({} code {}): {}",
        a.codespace,
        a.code,
        a.log
    );
    let resp = QuerySmartContractStateResponse::decode(a.value.as_slice())?;
    serde_json::from_slice(&resp.data)
        .with_context(|| format!("cannot decode the answer of contract {contract}"))
}

/// Read-only access to a deployment: RPC plus addresses.
pub struct Reader {
    /// The RPC client.
    pub rpc: HttpRpc,
    /// The contract addresses.
    pub deployment: Deployment,
}

impl Reader {
    /// Connects to `--node` with the `--state` addresses, checking the chain id when known.
    pub fn open(args: &ChainArgs) -> anyhow::Result<Self> {
        let state = args.deploy_state()?;
        let rpc = HttpRpc::new(&args.node)?;
        let want = args.chain_id.clone().unwrap_or(state.chain_id);
        let status = rpc.status()?;
        anyhow::ensure!(
            status.network == want,
            "wrong chain id: expected {want:?} but the node at {} serves {:?}",
            args.node,
            status.network
        );
        Ok(Reader {
            rpc,
            deployment: state.deployment,
        })
    }

    /// Smart query of one contract.
    pub fn query<T: DeserializeOwned>(
        &self,
        contract: &str,
        msg: &impl Serialize,
    ) -> anyhow::Result<T> {
        smart_query(&self.rpc, contract, msg)
    }
}

/// The x/gov module account (`authtypes.NewModuleAddress("gov")`: sha256("gov")[..20]).
pub fn gov_module_address(prefix: &str) -> anyhow::Result<String> {
    let h = Sha256::digest(b"gov");
    Ok(bech32_address(prefix, &h[..20])?)
}

/// Prints `v` as pretty JSON.
pub fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gov_module_address_matches_wasmd() {
        // `wasmd q auth module-account gov` on a wasm-prefixed chain
        assert_eq!(
            gov_module_address("wasm").unwrap(),
            "wasm10d07y265gmmuvt4z0w9aw880jnsr700js7zslc"
        );
    }
}
