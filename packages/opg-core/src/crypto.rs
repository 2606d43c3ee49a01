//! The crypto backend the verification core is generic over.
//!
//! On chain the host functions behind `deps.api` do the work ([`ApiCrypto`]); off chain the keeper
//! uses RustCrypto `k256` and `ed25519-dalek` (`NativeCrypto`, feature `native`). Keccak-256 is
//! computed in Rust on both sides (there is no keccak host function), see [`crate::eip712::keccak256`].
use cosmwasm_std::Api;

/// A signature backend. Implementations must not accept anything the other does not: the
/// cross-backend test in `verify` runs both over the same inputs.
pub trait Crypto {
    /// Recovers the uncompressed SEC1 public key (65 bytes, `0x04 || x || y`) from a 32-byte
    /// message hash, a 64-byte `r || s` signature and a recovery id (0 or 1).
    /// Errors (malformed signature, no point) are `Err(())`. High-s is rejected by the caller.
    fn secp256k1_recover_pubkey(&self, hash: &[u8], sig: &[u8], recovery_id: u8)
        -> Result<Vec<u8>, ()>;
    /// Verifies an ed25519 signature (64 bytes) of `msg` under a 32-byte public key.
    /// Malformed inputs give `false`.
    fn ed25519_verify(&self, msg: &[u8], sig: &[u8], public_key: &[u8]) -> bool;
}

/// On-chain backend: the CosmWasm host crypto via `deps.api`.
pub struct ApiCrypto<'a>(pub &'a dyn Api);

impl Crypto for ApiCrypto<'_> {
    fn secp256k1_recover_pubkey(
        &self,
        hash: &[u8],
        sig: &[u8],
        recovery_id: u8,
    ) -> Result<Vec<u8>, ()> {
        self.0
            .secp256k1_recover_pubkey(hash, sig, recovery_id)
            .map_err(|_| ())
    }
    fn ed25519_verify(&self, msg: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        self.0.ed25519_verify(msg, sig, public_key).unwrap_or(false)
    }
}

/// Off-chain backend: RustCrypto `k256` (ECDSA recovery) and `ed25519-dalek` (strict verification).
#[cfg(feature = "native")]
pub struct NativeCrypto;
