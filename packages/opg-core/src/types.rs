//! Domain types shared by the contracts and the keeper.
use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Binary, Uint128};

/// Where the model a node serves comes from (DESIGN §1).
#[cw_serde]
#[derive(Copy, Eq, PartialOrd, Ord, Hash)]
pub enum Provenance {
    /// A commercial model behind a vendor API (e.g. `openai/gpt-4.1`), served by proxy nodes.
    Commercial,
    /// An open-weight community model run on the node's own hardware, served by local nodes.
    Community,
}

impl Provenance {
    /// Stable lowercase name, as used in events and storage keys: `commercial` or `community`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Provenance::Commercial => "commercial",
            Provenance::Community => "community",
        }
    }
}

/// The two kinds of node (DESIGN §5), without their payload.
#[cw_serde]
#[derive(Copy, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKindTag {
    /// Relays calls to a commercial API; may list commercial models only.
    Proxy,
    /// Runs community models on attested hardware; may list community models only.
    Local,
}

impl NodeKindTag {
    /// The provenance class a node of this kind serves: proxy -> commercial, local -> community.
    pub fn provenance(&self) -> Provenance {
        match self {
            NodeKindTag::Proxy => Provenance::Commercial,
            NodeKindTag::Local => Provenance::Community,
        }
    }
    /// `proxy` or `local`.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeKindTag::Proxy => "proxy",
            NodeKindTag::Local => "local",
        }
    }
}

/// A node's receipt-signing key.
#[cw_serde]
#[derive(Eq, Hash)]
pub enum NodeKey {
    /// secp256k1 key, identified by its EVM address (`0x` + 40 lowercase hex). Signatures are
    /// 65 bytes `r || s || v` (v = 27/28 or 0/1), low-s only.
    Secp256k1 {
        /// EVM address, `0x`-prefixed, 20 bytes hex (any case on input, stored lowercase).
        address: String,
    },
    /// ed25519 public key (32 bytes). Signatures are 64 bytes over the 32-byte EIP-712 digest.
    Ed25519 {
        /// The 32-byte public key.
        public_key: Binary,
    },
}

/// The y-coordinates (32 bytes little-endian, sign bit cleared) of every ed25519 point encoding
/// that decompresses to a point of small order (1, 2, 4 or 8), canonical or not: 0, 1, the two
/// order-8 points, p - 1, p and p + 1 (p = 2^255 - 19). With either sign bit that is 14
/// encodings, libsodium's blocklist; `tests` checks the set against curve25519-dalek.
const ED25519_SMALL_ORDER_Y: [[u8; 32]; 7] = {
    const fn fill(first: u8, rest: u8, last: u8) -> [u8; 32] {
        let mut y = [rest; 32];
        y[0] = first;
        y[31] = last;
        y
    }
    [
        fill(0x00, 0x00, 0x00),
        fill(0x01, 0x00, 0x00),
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
            0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88,
            0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ],
        fill(0xec, 0xff, 0x7f),
        fill(0xed, 0xff, 0x7f),
        fill(0xee, 0xff, 0x7f),
    ]
};

/// Whether a 32-byte ed25519 public key encodes a point of small order. The chain's
/// `ed25519_verify` follows ZIP-215, under which such a key verifies a forged signature on any
/// message (e.g. `R` = the identity, `S` = 0) without any secret key, so the registry refuses
/// these keys. `false` for any other length.
pub fn ed25519_small_order(public_key: &[u8]) -> bool {
    let Ok(mut y) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    y[31] &= 0x7f;
    ED25519_SMALL_ORDER_Y.contains(&y)
}

/// A hardware attestation of a local node (DESIGN §5, cf. Akash audited attributes): an
/// allow-listed attester's secp256k1 EIP-712 signature over
/// `HardwareAttestation(string operator,bytes32 nodeKeyHash,string hardwareClass,bytes32 evidenceDigest,uint64 expiresAt)`
/// in the registry's domain (see [`crate::eip712::registry_domain_separator`]).
#[cw_serde]
pub struct HardwareAttestation {
    /// Hardware class id, one of the registry's governance-kept classes (e.g. `h100`, `rtx4090`).
    pub hardware_class: String,
    /// sha256 of the evidence the attester examined (e.g. a TEE quote or audit report), 32 bytes.
    pub evidence_digest: Binary,
    /// Unix time (seconds) after which the attestation is no longer valid.
    pub expires_at: u64,
    /// The attester's EVM address (`0x` + 40 hex); must be on the registry's attester list.
    pub attester: String,
    /// 65-byte `r || s || v` secp256k1 signature of the attester over the EIP-712 digest.
    pub signature: Binary,
}

/// An x402 network the verifier accepts payments on, with its assets.
#[cw_serde]
pub struct NetworkConfig {
    /// EVM chain id (e.g. 8453 for Base, 84532 for Base Sepolia).
    pub chain_id: u64,
    /// x402 v1 network name (e.g. `base`, `base-sepolia`); v2 uses CAIP-2 `eip155:<chain_id>`.
    pub name: String,
    /// Assets (EIP-3009 tokens) accepted on this network.
    pub assets: Vec<AssetConfig>,
}

/// An accepted EIP-3009 token, with the decimals governance set for it.
#[cw_serde]
pub struct AssetConfig {
    /// Token contract address (`0x` + 40 hex), the EIP-712 `verifyingContract`.
    pub address: String,
    /// Decimals of the token; value in micro-USD = amount * 10^6 / 10^decimals (USD stablecoins).
    pub decimals: u8,
    /// The token's EIP-712 domain `name` (x402 `extra.name`, e.g. `USDC` on Base Sepolia), so
    /// compact receipts ([`crate::codec`]) need not carry it; `None`: every compact receipt of this
    /// asset carries its own. Omitted from the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip712_name: Option<String>,
    /// The token's EIP-712 domain `version` (x402 `extra.version`, e.g. `2`); as `eip712_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip712_version: Option<String>,
}

/// Status of a node in the registry.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum NodeStatus {
    /// Registered, bonded, eligible for rewards.
    Active,
    /// Jailed by governance: receipts are rejected with `node_jailed` until unjailed.
    Jailed,
    /// Deregistered; the bond unbonds until `unbonding_ends` and can then be withdrawn.
    Unbonding,
    /// The bond was withdrawn. The node stays on record with its operator and kind, so rewards it
    /// earned and has not claimed still go to that operator; its id is never registered again,
    /// and its receipts are rejected with `node_withdrawn`.
    Withdrawn,
}

/// A micro-USD amount (1 USD = 1,000,000).
pub type MicroUsd = Uint128;
