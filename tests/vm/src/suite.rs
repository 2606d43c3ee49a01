//! The deployed system on the artifacts: registry, pool and verifier wired together with a
//! governance, an operator with three nodes (secp256k1 proxy, ed25519 proxy, ed25519 local on an
//! attested `h100`), payers, a facilitator and an attester; plus signed receipts for them.
use cosmwasm_std::{Decimal, Uint128};
use cosmwasm_vm::testing::MockApi;
use opg_core::eip712::{registry_domain_separator, verifier_domain_separator};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{
    ExecuteMsg as PoolExecuteMsg, HardwareWeight, InstantiateMsg as PoolInstantiateMsg,
    RewardParams,
};
use opg_core::msg::registry::{AddAttesterMsg, AddModelMsg, RegisterMsg};
use opg_core::msg::registry::{
    ExecuteMsg as RegistryExecuteMsg, InstantiateMsg as RegistryInstantiateMsg, NodeKind,
};
use opg_core::msg::verifier::SubmitReceiptsMsg;
use opg_core::msg::verifier::{
    ExecuteMsg as VerifierExecuteMsg, InstantiateMsg as VerifierInstantiateMsg,
};
use opg_core::receipt::{Heartbeat, InferenceReceipt, SignedReceipt};
use opg_core::sign::{
    make_signed_permit2_receipt, make_signed_receipt, sign_attestation, sign_heartbeat, EvmSigner,
    NodeSigner, PaymentParams, Permit2Params,
};
use opg_core::types::{AssetConfig, NetworkConfig, Provenance};
use opg_core::x402::PaymentRequirements;

use crate::artifacts::{load, ContractArtifact};
use crate::harness::{Chain, ContractRef, TxResult};

/// Seed of every derived key.
pub const SEED: &[u8] = b"opg vm tests";
/// EVM chain id of the payment network (Base Sepolia).
pub const PAYMENT_CHAIN_ID: u64 = 84532;
/// x402 v1 name of the payment network.
pub const NETWORK: &str = "base-sepolia";
/// USDC on Base Sepolia, 6 decimals (1 token unit = 1 micro-USD).
pub const USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
/// Epoch length (seconds).
pub const EPOCH_LENGTH: u64 = 3_600;
/// Grace after an epoch's end (seconds).
pub const GRACE: u64 = 600;
/// Commercial model.
pub const GPT: &str = "openai/gpt-4.1";
/// Community model.
pub const LLAMA: &str = "meta-llama/llama-3.1-8b-instruct";
/// Proxy node with a secp256k1 key.
pub const PROXY_SECP: &str = "proxy-secp";
/// Proxy node with an ed25519 key.
pub const PROXY_ED: &str = "proxy-ed";
/// Local node (ed25519, attested h100).
pub const LOCAL: &str = "local-1";
/// Minimum bond (uopg).
pub const MIN_BOND: u128 = 1_000_000;
/// Emission per epoch (uopg).
pub const EMISSION: u128 = 1_000_000_000;
/// `max_batch` of the verifier.
pub const MAX_BATCH: u32 = 500;
/// Value of one payment (USDC units = micro-USD): 0.01 USD.
pub const VALUE: u128 = 10_000;

/// A node of the fixture.
pub struct TestNode {
    /// Node id.
    pub id: &'static str,
    /// Its key.
    pub signer: NodeSigner,
    /// Its `payTo`.
    pub payee: EvmSigner,
    /// The model it serves.
    pub model: &'static str,
}

/// The deployed system.
pub struct Suite {
    /// The chain.
    pub chain: Chain,
    /// `node-registry`.
    pub registry: ContractRef,
    /// `receipt-verifier`.
    pub verifier: ContractRef,
    /// `reward-pool`.
    pub pool: ContractRef,
    /// Governance address.
    pub governance: String,
    /// Operator of every node.
    pub operator: String,
    /// The epoch clock.
    pub clock: EpochClock,
    /// Nodes registered by [`Suite::new`].
    pub nodes: Vec<TestNode>,
    /// Allow-listed facilitator.
    pub facilitator: EvmSigner,
    /// Allow-listed hardware attester.
    pub attester: EvmSigner,
    next_nonce: u64,
}

/// A new address from `MockApi::addr_make`.
pub fn addr(name: &str) -> String {
    MockApi::default().addr_make(name)
}

/// A payer key (`payer <i>`).
pub fn payer(i: usize) -> EvmSigner {
    EvmSigner::derive(SEED, &format!("payer {i}"))
}

/// The reward params of the suite.
pub fn default_params() -> RewardParams {
    RewardParams {
        emission_per_epoch: Uint128::new(EMISSION),
        m_commercial: Decimal::percent(50),
        m_community_max: Decimal::from_ratio(3u64, 1u64),
        target_share: Decimal::percent(30),
        alpha: Decimal::percent(10),
        v_cap: Uint128::new(1_000_000_000),
        c_call: None,
        claim_epochs: 100,
        hardware_weights: vec![HardwareWeight {
            class: "h100".to_string(),
            weight: Decimal::one(),
            stipend_cap: Uint128::new(1_000_000_000_000),
        }],
    }
}

/// The verifier's accepted networks.
pub fn networks() -> Vec<NetworkConfig> {
    vec![NetworkConfig {
        chain_id: PAYMENT_CHAIN_ID,
        name: NETWORK.to_string(),
        assets: vec![AssetConfig {
            address: USDC.to_string(),
            decimals: 6,
            eip712_name: Some("USDC".into()),
            eip712_version: Some("2".into()),
        }],
    }]
}

/// Unwraps a contract call, naming the call on failure.
pub fn ok<T>(what: &str, r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

impl Suite {
    /// Contracts instantiated and wired (pool knows the verifier, registry knows the pool), the
    /// pool funded, models and attester listed, the three nodes registered; the block is in the
    /// middle of epoch 1.
    pub fn new() -> Self {
        Self::new_with(default_params())
    }

    /// [`Suite::new`] with the pool instantiated with `params`.
    pub fn new_with(params: RewardParams) -> Self {
        let mut s = Self::deploy_with(params);
        s.setup_registry();
        for i in 0..s.nodes.len() {
            let r = s.register(i);
            ok("register", r);
        }
        s
    }

    /// Instantiated and wired contracts, nothing registered.
    pub fn deploy() -> Self {
        Self::deploy_with(default_params())
    }

    /// [`Suite::deploy`] with the pool instantiated with `params`.
    pub fn deploy_with(params: RewardParams) -> Self {
        let mut chain = Chain::new();
        let registry = chain.add("registry", load(ContractArtifact::NodeRegistry));
        let pool = chain.add("pool", load(ContractArtifact::RewardPool));
        let verifier = chain.add("verifier", load(ContractArtifact::ReceiptVerifier));
        let governance = addr("governance");
        let deployer = addr("deployer");
        let operator = addr("operator");
        let now = chain.now();
        let clock = EpochClock {
            genesis: now - now % EPOCH_LENGTH,
            epoch_length: EPOCH_LENGTH,
            grace: GRACE,
        };
        // Start in the middle of epoch 1: epoch 0 still accepts receipts (grace), epoch 1 is open.
        chain.set_time(clock.start(1) + EPOCH_LENGTH / 2);

        let (registry_addr, pool_addr, verifier_addr) = (
            registry.borrow().address.to_string(),
            pool.borrow().address.to_string(),
            verifier.borrow().address.to_string(),
        );
        ok(
            "instantiate registry",
            chain.instantiate(
                &registry,
                &deployer,
                &RegistryInstantiateMsg {
                    governance: governance.clone(),
                    bond_denom: crate::harness::DENOM.to_string(),
                    min_bond: Uint128::new(MIN_BOND),
                    unbonding_period: 86_400,
                    reward_pool: Some(pool_addr.clone()),
                    max_attestation_validity: None,
                },
            ),
        );
        ok(
            "instantiate pool",
            chain.instantiate(
                &pool,
                &deployer,
                &PoolInstantiateMsg {
                    governance: governance.clone(),
                    registry: registry_addr.clone(),
                    verifier: None,
                    denom: crate::harness::DENOM.to_string(),
                    clock,
                    params,
                },
            ),
        );
        let facilitator = EvmSigner::derive(SEED, "facilitator");
        ok(
            "instantiate verifier",
            chain.instantiate(
                &verifier,
                &deployer,
                &VerifierInstantiateMsg {
                    governance: governance.clone(),
                    registry: registry_addr,
                    reward_pool: pool_addr.clone(),
                    networks: networks(),
                    facilitators: vec![facilitator.address()],
                    require_settlement: true,
                    max_batch: MAX_BATCH,
                },
            ),
        );
        ok(
            "pool: set verifier",
            chain.execute(
                &pool,
                &governance,
                0,
                &PoolExecuteMsg::UpdateConfig {
                    governance: None,
                    verifier: Some(verifier_addr),
                    registry: None,
                },
            ),
        );
        chain.mint(&pool_addr, 0);
        chain.mint(&operator, 1_000 * MIN_BOND);
        chain.mint(&governance, 1_000 * EMISSION);
        ok(
            "fund pool",
            chain.execute(&pool, &governance, 100 * EMISSION, &PoolExecuteMsg::Fund {}),
        );

        let nodes = vec![
            TestNode {
                id: PROXY_SECP,
                signer: NodeSigner::derive(SEED, "node proxy-secp", false),
                payee: EvmSigner::derive(SEED, "payee proxy-secp"),
                model: GPT,
            },
            TestNode {
                id: PROXY_ED,
                signer: NodeSigner::derive(SEED, "node proxy-ed", true),
                payee: EvmSigner::derive(SEED, "payee proxy-ed"),
                model: GPT,
            },
            TestNode {
                id: LOCAL,
                signer: NodeSigner::derive(SEED, "node local-1", true),
                payee: EvmSigner::derive(SEED, "payee local-1"),
                model: LLAMA,
            },
        ];
        Suite {
            chain,
            registry,
            verifier,
            pool,
            governance,
            operator,
            clock,
            nodes,
            facilitator,
            attester: EvmSigner::derive(SEED, "attester"),
            next_nonce: 1,
        }
    }

    /// Governance lists both models and the attester.
    pub fn setup_registry(&mut self) {
        let gov = self.governance.clone();
        for (id, provenance) in [
            (GPT, Provenance::Commercial),
            (LLAMA, Provenance::Community),
        ] {
            let r = self.chain.execute(
                &self.registry,
                &gov,
                0,
                &RegistryExecuteMsg::AddModel(AddModelMsg {
                    id: id.to_string(),
                    provenance,
                    weights_digest: None,
                }),
            );
            ok("add model", r);
        }
        let r = self.chain.execute(
            &self.registry,
            &gov,
            0,
            &RegistryExecuteMsg::AddAttester(AddAttesterMsg {
                address: self.attester.address(),
            }),
        );
        ok("add attester", r);
    }

    /// The `Register` message of node `i` (local nodes carry an attestation of `h100`).
    pub fn register_msg(&self, i: usize) -> RegistryExecuteMsg {
        let n = &self.nodes[i];
        let kind = if n.model == LLAMA {
            let domain = registry_domain_separator(
                &self.chain.block().chain_id,
                &self.addr_of(&self.registry),
            );
            NodeKind::Local {
                attestation: sign_attestation(
                    &self.attester,
                    &domain,
                    &self.operator,
                    &n.signer.key(),
                    "h100",
                    [7u8; 32],
                    // Within the registry's default `max_attestation_validity` (365 days).
                    self.chain.block().time.seconds() + 180 * 86_400,
                ),
            }
        } else {
            NodeKind::Proxy {
                upstream: "https://api.openai.com".to_string(),
            }
        };
        RegistryExecuteMsg::Register(RegisterMsg {
            node_id: n.id.to_string(),
            kind,
            key: n.signer.key(),
            pay_to: n.payee.address(),
            endpoint: format!("https://{}.example", n.id),
            models: vec![n.model.to_string()],
        })
    }

    /// Registers node `i` with the minimum bond.
    pub fn register(&mut self, i: usize) -> Result<TxResult, String> {
        let msg = self.register_msg(i);
        let operator = self.operator.clone();
        self.chain
            .execute(&self.registry, &operator, MIN_BOND, &msg)
    }

    /// Address of a contract.
    pub fn addr_of(&self, c: &ContractRef) -> String {
        c.borrow().address.to_string()
    }

    /// The node fixture `id`.
    pub fn node(&self, id: &str) -> &TestNode {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    /// The verifier's EIP-712 domain separator, from the chain id and the verifier address the
    /// env gives it.
    pub fn verifier_domain(&self) -> [u8; 32] {
        verifier_domain_separator(&self.chain.block().chain_id, &self.addr_of(&self.verifier))
    }

    /// A fresh EIP-3009 nonce.
    pub fn fresh_nonce(&mut self) -> [u8; 32] {
        let mut n = [0u8; 32];
        n[..8].copy_from_slice(&self.next_nonce.to_be_bytes());
        n[31] = 0x5a;
        self.next_nonce += 1;
        n
    }

    /// A valid v1 receipt: `node` serving its model to `payer`, 0.01 USDC, served 60 s ago,
    /// a five-minute payment window, settled by the facilitator.
    pub fn receipt(&mut self, node: &str, payer: &EvmSigner) -> SignedReceipt {
        let served_at = self.chain.now() - 60;
        self.receipt_at(node, payer, served_at)
    }

    /// A valid v1 receipt served at `served_at`.
    pub fn receipt_at(&mut self, node: &str, payer: &EvmSigner, served_at: u64) -> SignedReceipt {
        let nonce = self.fresh_nonce();
        let domain = self.verifier_domain();
        let n = self.node(node);
        let requirements = PaymentRequirements {
            resource: Some(format!("https://{}.example/v1/chat/completions", n.id)),
            description: Some("inference".to_string()),
            mime_type: Some("application/json".to_string()),
            max_timeout_seconds: Some(300),
            ..PaymentRequirements::exact(1, NETWORK, &n.payee.address(), USDC, VALUE, "USDC", "2")
        };
        let params = PaymentParams {
            x402_version: 1,
            requirements,
            value: VALUE,
            valid_after: served_at - 30,
            valid_before: served_at + 270,
            nonce,
        };
        let receipt = InferenceReceipt {
            node_id: n.id.to_string(),
            model_id: n.model.to_string(),
            request_digest: vec![0x11; 32].into(),
            response_digest: vec![0x22; 32].into(),
            prompt_tokens: 512,
            completion_tokens: 256,
            served_at,
        };
        make_signed_receipt(
            payer,
            &n.signer,
            Some(&self.facilitator),
            &domain,
            &params,
            receipt,
            [0x33; 32],
        )
    }

    /// A valid x402 Permit2 receipt (protocol v2, `eip155:84532`) served 60 s ago: `scheme`
    /// `exact` (`settled` `None`, 0.01 USDC) or `upto` (signed maximum 0.01 USDC, `settled` the
    /// amount the facilitator attests), deadline 270 s after serving.
    pub fn permit2_receipt(
        &mut self,
        node: &str,
        payer: &EvmSigner,
        scheme: &str,
        settled: Option<u128>,
    ) -> SignedReceipt {
        let served_at = self.chain.now() - 60;
        let nonce = self.fresh_nonce();
        let domain = self.verifier_domain();
        let facilitator = (scheme == "upto").then(|| self.facilitator.address_bytes());
        let n = self.node(node);
        let params = Permit2Params {
            requirements: PaymentRequirements::permit2(
                scheme,
                &format!("eip155:{PAYMENT_CHAIN_ID}"),
                &n.payee.address(),
                USDC,
                VALUE,
                facilitator.map(|_| self.facilitator.address()).as_deref(),
            ),
            amount: VALUE,
            valid_after: served_at - 30,
            deadline: served_at + 270,
            nonce,
            facilitator,
        };
        let receipt = InferenceReceipt {
            node_id: n.id.to_string(),
            model_id: n.model.to_string(),
            request_digest: vec![0x11; 32].into(),
            response_digest: vec![0x22; 32].into(),
            prompt_tokens: 512,
            completion_tokens: 256,
            served_at,
        };
        make_signed_permit2_receipt(
            payer,
            &n.signer,
            Some(&self.facilitator),
            &domain,
            &params,
            receipt,
            [0x33; 32],
            settled,
        )
    }

    /// `batch` receipts for `node`, each from a different payer.
    pub fn receipts(&mut self, node: &str, batch: usize) -> Vec<SignedReceipt> {
        (0..batch).map(|i| self.receipt(node, &payer(i))).collect()
    }

    /// A heartbeat of `node` for the current epoch.
    pub fn heartbeat(&self, node: &str) -> Heartbeat {
        let now = self.chain.now();
        let epoch = self.clock.epoch_of(now).expect("after genesis");
        sign_heartbeat(
            &self.node(node).signer,
            &self.verifier_domain(),
            node,
            epoch,
            now,
        )
    }

    /// `SubmitReceipts` from a keeper.
    pub fn submit(
        &mut self,
        receipts: Vec<SignedReceipt>,
        heartbeats: Vec<Heartbeat>,
    ) -> Result<TxResult, String> {
        let keeper = addr("keeper");
        self.chain.execute(
            &self.verifier,
            &keeper,
            0,
            &VerifierExecuteMsg::SubmitReceipts(SubmitReceiptsMsg {
                receipts,
                heartbeats,
                compact: vec![],
            }),
        )
    }

    /// The `SubmitReceipts` message the keeper would send for `receipts` (compact form when every
    /// receipt is encodable, else compacted JSON; `opg_core::codec`), under this suite's config.
    pub fn keeper_msg(&self, receipts: &[SignedReceipt]) -> SubmitReceiptsMsg {
        let facilitators = [
            opg_core::verify::parse_evm_address(&self.facilitator.address())
                .expect("facilitator address"),
        ];
        let networks = networks();
        let ctx = opg_core::codec::EncodeContext {
            networks: &networks,
            facilitators: &facilitators,
        };
        match opg_core::codec::encode_batch(receipts, &ctx) {
            Some(compact) => SubmitReceiptsMsg {
                receipts: vec![],
                heartbeats: vec![],
                compact,
            },
            None => {
                let mut receipts = receipts.to_vec();
                opg_core::codec::compact_for_submission(&mut receipts);
                SubmitReceiptsMsg {
                    receipts,
                    heartbeats: vec![],
                    compact: vec![],
                }
            }
        }
    }

    /// `SubmitReceipts` from a keeper, any message body.
    pub fn submit_msg(&mut self, msg: SubmitReceiptsMsg) -> Result<TxResult, String> {
        let keeper = addr("keeper");
        self.chain.execute(
            &self.verifier,
            &keeper,
            0,
            &VerifierExecuteMsg::SubmitReceipts(msg),
        )
    }

    /// Chain governance (`sudo`) moves the verifier's `max_batch` to `target`, one allowed step
    /// (x2 or /2) per change.
    pub fn set_max_batch(&mut self, target: u32) {
        loop {
            let cfg: opg_core::msg::verifier::ConfigResponse = ok(
                "verifier config",
                self.chain.query(
                    &self.verifier,
                    &opg_core::msg::verifier::QueryMsg::Config {},
                ),
            );
            if cfg.max_batch == target {
                return;
            }
            let next = target.clamp(cfg.max_batch / 2, cfg.max_batch * 2);
            let block = self.chain.block();
            let msg = opg_core::msg::verifier::SudoMsg::UpdateConfig(
                opg_core::msg::verifier::UpdateConfigMsg {
                    max_batch: Some(next),
                    ..Default::default()
                },
            );
            let r = self.verifier.borrow_mut().sudo(&block, &msg).into_result();
            ok("sudo max_batch", r);
        }
    }

    /// The epoch of the current block.
    pub fn epoch(&self) -> u64 {
        self.clock
            .epoch_of(self.chain.now())
            .expect("after genesis")
    }

    /// Moves the block to the first second epoch `epoch` can be finalized.
    pub fn advance_past_grace(&mut self, epoch: u64) {
        let t = self.clock.end(epoch) + GRACE;
        if t > self.chain.now() {
            self.chain.set_time(t);
        }
    }

    /// `FinalizeEpoch` by anyone.
    pub fn finalize(&mut self, epoch: u64) -> Result<TxResult, String> {
        let anyone = addr("anyone");
        self.chain.execute(
            &self.pool,
            &anyone,
            0,
            &PoolExecuteMsg::FinalizeEpoch { epoch },
        )
    }

    /// `Claim` by the operator.
    pub fn claim(&mut self, node: &str, limit: Option<u32>) -> Result<TxResult, String> {
        let operator = self.operator.clone();
        self.chain.execute(
            &self.pool,
            &operator,
            0,
            &PoolExecuteMsg::Claim {
                node_id: node.to_string(),
                limit,
            },
        )
    }
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

/// Overwrites a contract's cw2 version info (`contract_info`), as another code or a newer
/// version would have left it.
pub fn set_cw2(contract: &ContractRef, name: &str, version: &str) {
    let value = serde_json::json!({ "contract": name, "version": version }).to_string();
    contract
        .borrow_mut()
        .set_raw(b"contract_info", value.as_bytes());
}
