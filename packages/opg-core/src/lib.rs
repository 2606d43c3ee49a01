//! # opg-core
//!
//! The one crate every part of opg shares:
//!
//! * [`msg`]: the instantiate/execute/query/sudo/migrate messages of the three contracts
//!   (`node-registry`, `receipt-verifier`, `reward-pool`), whose doc comments become the JSON schema;
//! * [`types`]: nodes, models, provenance, networks and other domain types;
//! * [`x402`]: the x402 `PaymentPayload` / `PaymentRequirements` wire types (protocol v1 and v2, the
//!   `exact` EVM scheme) and header decoding;
//! * [`eip712`]: keccak-256 and the canonical EIP-712 digests (EIP-3009
//!   `TransferWithAuthorization`, `InferenceReceipt`, `Settlement`, `HardwareAttestation`,
//!   `Heartbeat`);
//! * [`receipt`]: the signed inference receipt a node hands to a keeper and a keeper submits on-chain;
//! * [`verify`]: **one verification core**, generic over a [`crypto::Crypto`] backend: `deps.api` on
//!   chain ([`crypto::ApiCrypto`]), RustCrypto off chain (`crypto::NativeCrypto`, feature `native`),
//!   so the keeper's verdicts and the contract's cannot drift;
//! * [`codec`]: the compact binary wire form of a receipt for `SubmitReceipts` (decoder; the
//!   encoder behind feature `encode`);
//! * [`reason`]: the rejection reasons, x402 specification strings for payment failures.
pub mod codec;
pub mod crypto;
pub mod eip712;
pub mod epoch;
// Messages are moved once per call; boxing a large variant would only complicate the schema.
#[allow(clippy::large_enum_variant)]
pub mod msg;
pub mod permit2;
pub mod reason;
pub mod receipt;
pub mod types;
pub mod verify;
pub mod x402;

#[cfg(feature = "native")]
pub mod sign;
