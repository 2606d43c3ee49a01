//! The crypto backend the verification core is generic over.
//!
//! On chain the host functions behind `deps.api` do the work ([`ApiCrypto`]); off chain the keeper
//! uses RustCrypto `k256` and, for ed25519, the host's own `cosmwasm-crypto` (`NativeCrypto`,
//! feature `native`). Keccak-256 is
//! computed in Rust on both sides (there is no keccak host function), see [`crate::eip712::keccak256`].
use cosmwasm_std::Api;

/// A signature backend. Implementations must not accept anything the other does not: the
/// cross-backend tests (`tests/receipts.rs`, `tests/x402_fixtures.rs`) run both over the same inputs.
pub trait Crypto {
    /// Recovers the uncompressed SEC1 public key (65 bytes, `0x04 || x || y`) from a 32-byte
    /// message hash, a 64-byte `r || s` signature and a recovery id (0 or 1).
    /// Errors (malformed signature, no point) are `Err(())`. High-s is rejected by the caller.
    #[allow(clippy::result_unit_err)] // the verdict only needs "no key"; part of the shared API
    fn secp256k1_recover_pubkey(
        &self,
        hash: &[u8],
        sig: &[u8],
        recovery_id: u8,
    ) -> Result<Vec<u8>, ()>;
    /// Verifies a 64-byte `r || s` ECDSA signature of a 32-byte message hash under a SEC1
    /// public key (33 or 65 bytes). Malformed inputs give `false`. High-s is rejected by the
    /// caller.
    fn secp256k1_verify(&self, hash: &[u8], sig: &[u8], public_key: &[u8]) -> bool;
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
    fn secp256k1_verify(&self, hash: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        self.0
            .secp256k1_verify(hash, sig, public_key)
            .unwrap_or(false)
    }
    fn ed25519_verify(&self, msg: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        self.0.ed25519_verify(msg, sig, public_key).unwrap_or(false)
    }
}

/// Off-chain backend: RustCrypto `k256` (ECDSA recovery and verification) and `cosmwasm-crypto`
/// (ed25519, exactly as the chain host).
#[cfg(feature = "native")]
pub struct NativeCrypto;

#[cfg(feature = "native")]
impl Crypto for NativeCrypto {
    /// Same acceptance as `cosmwasm-crypto` (the host of [`ApiCrypto`]): 32-byte hash, 64-byte
    /// signature with non-zero `r`, `s` below the group order, recovery id 0 or 1; a high-s
    /// signature is normalized (recovery id flipped) before recovery, as the host does.
    fn secp256k1_recover_pubkey(
        &self,
        hash: &[u8],
        sig: &[u8],
        recovery_id: u8,
    ) -> Result<Vec<u8>, ()> {
        use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
        if hash.len() != 32 || sig.len() != 64 {
            return Err(());
        }
        let mut id = match recovery_id {
            0 => RecoveryId::new(false, false),
            1 => RecoveryId::new(true, false),
            _ => return Err(()),
        };
        let mut signature = Signature::from_slice(sig).map_err(|_| ())?;
        if let Some(normalized) = signature.normalize_s() {
            signature = normalized;
            id = RecoveryId::new(!id.is_y_odd(), id.is_x_reduced());
        }
        let key = VerifyingKey::recover_from_prehash(hash, &signature, id).map_err(|_| ())?;
        Ok(key.to_encoded_point(false).as_bytes().to_vec())
    }

    /// Same acceptance as `cosmwasm-crypto`'s `secp256k1_verify`: 32-byte hash, 64-byte signature
    /// (high-s normalized first), 33- or 65-byte SEC1 key on the curve.
    fn secp256k1_verify(&self, hash: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        use k256::ecdsa::{Signature, VerifyingKey};
        if hash.len() != 32 || sig.len() != 64 || !matches!(public_key.len(), 33 | 65) {
            return false;
        }
        let Ok(mut signature) = Signature::from_slice(sig) else {
            return false;
        };
        if let Some(normalized) = signature.normalize_s() {
            signature = normalized;
        }
        let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
            return false;
        };
        key.verify_prehash(hash, &signature).is_ok()
    }

    /// The chain host's own check (`cosmwasm_crypto::ed25519_verify`: ed25519-zebra, ZIP-215
    /// rules, the same crate and version wasmd's VM runs), so the keeper acknowledges exactly the
    /// node signatures the contract accepts. ZIP-215 accepts small-order keys and small-order
    /// components in `R`; the registry refuses small-order node keys, so no signature verifies
    /// without the node's secret key.
    fn ed25519_verify(&self, msg: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        cosmwasm_crypto::ed25519_verify(msg, sig, public_key).unwrap_or(false)
    }
}
