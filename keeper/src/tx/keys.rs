//! Transaction signing keys: a BIP-39 mnemonic (12 to 24 words) and an HD path give a secp256k1
//! key, its compressed public key and its bech32 account address, exactly as CosmJS's
//! `DirectSecp256k1HdWallet` and `wasmd keys add --recover` derive them.
//!
//! The mnemonic and the secret never appear in logs: [`TxKey`]'s `Debug` prints only the address.
use std::fmt;
use std::path::Path;

use k256::ecdsa::signature::Signer;
use k256::ecdsa::{Signature, SigningKey};

use super::TxError;

/// The Cosmos Hub HD path (coin type 118), the default of wasmd and CosmJS.
pub const DEFAULT_HD_PATH: &str = "m/44'/118'/0'/0/0";

/// Where a mnemonic comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MnemonicSource {
    /// A file holding the phrase (surrounding whitespace ignored).
    File(std::path::PathBuf),
    /// An environment variable holding the phrase.
    Env(String),
}

impl MnemonicSource {
    /// Reads the phrase. Errors: [`TxError::KeySource`] (missing file or variable, empty).
    pub fn read(&self) -> Result<String, TxError> {
        let (name, text) = match self {
            MnemonicSource::File(p) => (
                p.display().to_string(),
                std::fs::read_to_string(p).map_err(|e| TxError::KeySource {
                    source_name: p.display().to_string(),
                    reason: e.to_string(),
                })?,
            ),
            MnemonicSource::Env(v) => (
                format!("${v}"),
                std::env::var(v).map_err(|e| TxError::KeySource {
                    source_name: format!("${v}"),
                    reason: e.to_string(),
                })?,
            ),
        };
        let phrase = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if phrase.is_empty() {
            return Err(TxError::KeySource {
                source_name: name,
                reason: "empty".into(),
            });
        }
        Ok(phrase)
    }
}

/// A secp256k1 account key with its address.
#[derive(Clone)]
pub struct TxKey {
    signing: SigningKey,
    public: [u8; 33],
    address: String,
}

impl fmt::Debug for TxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxKey")
            .field("address", &self.address)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl TxKey {
    /// Derives the key of `phrase` (BIP-39, empty passphrase) at `hd_path` and its address with
    /// `prefix`. Errors: [`TxError::InvalidMnemonic`], [`TxError::InvalidHdPath`],
    /// [`TxError::InvalidPrefix`].
    pub fn from_mnemonic(phrase: &str, hd_path: &str, prefix: &str) -> Result<Self, TxError> {
        let mnemonic =
            bip39::Mnemonic::parse_normalized(phrase).map_err(|e| TxError::InvalidMnemonic {
                reason: e.to_string(),
            })?;
        let seed = mnemonic.to_seed("");
        let path: bip32::DerivationPath =
            hd_path
                .parse()
                .map_err(|e: bip32::Error| TxError::InvalidHdPath {
                    path: hd_path.into(),
                    reason: e.to_string(),
                })?;
        let xprv =
            bip32::XPrv::derive_from_path(seed, &path).map_err(|e| TxError::InvalidHdPath {
                path: hd_path.into(),
                reason: e.to_string(),
            })?;
        let secret = xprv.private_key().to_bytes();
        Self::from_secret(&secret, prefix)
    }

    /// Reads the phrase from `source` and derives as [`TxKey::from_mnemonic`].
    pub fn from_source(
        source: &MnemonicSource,
        hd_path: &str,
        prefix: &str,
    ) -> Result<Self, TxError> {
        Self::from_mnemonic(&source.read()?, hd_path, prefix)
    }

    /// Reads the phrase from the file at `path`.
    pub fn from_file(path: &Path, hd_path: &str, prefix: &str) -> Result<Self, TxError> {
        Self::from_source(&MnemonicSource::File(path.into()), hd_path, prefix)
    }

    /// A key from its 32-byte secret scalar (big endian).
    pub fn from_secret(secret: &[u8], prefix: &str) -> Result<Self, TxError> {
        let signing = SigningKey::from_slice(secret).map_err(|_| TxError::InvalidMnemonic {
            reason: "derived scalar is not a valid secp256k1 key".into(),
        })?;
        let point = signing.verifying_key().to_encoded_point(true);
        let mut public = [0u8; 33];
        public.copy_from_slice(point.as_bytes());
        let address = account_address(&public, prefix)?;
        Ok(TxKey {
            signing,
            public,
            address,
        })
    }

    /// The bech32 account address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The compressed secp256k1 public key (33 bytes).
    pub fn public_key(&self) -> [u8; 33] {
        self.public
    }

    /// The same key with another bech32 prefix.
    pub fn with_prefix(&self, prefix: &str) -> Result<Self, TxError> {
        Ok(TxKey {
            signing: self.signing.clone(),
            public: self.public,
            address: account_address(&self.public, prefix)?,
        })
    }

    /// Signs `message` as Cosmos SDK does for SIGN_MODE_DIRECT: ECDSA over SHA-256(`message`),
    /// RFC 6979 nonce, low-s; returns `r || s` (64 bytes).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let sig: Signature = self.signing.sign(message);
        let sig = sig.normalize_s().unwrap_or(sig);
        let mut out = [0u8; 64];
        out.copy_from_slice(&sig.to_bytes());
        out
    }
}

/// The account address of a compressed secp256k1 public key: bech32(prefix,
/// RIPEMD-160(SHA-256(pubkey))). Errors: [`TxError::InvalidPrefix`].
pub fn account_address(public: &[u8; 33], prefix: &str) -> Result<String, TxError> {
    check_prefix(prefix)?;
    let vk =
        k256::ecdsa::VerifyingKey::from_sec1_bytes(public).map_err(|_| TxError::InvalidPrefix {
            prefix: prefix.into(),
            reason: "not a compressed secp256k1 public key".into(),
        })?;
    let key = cosmrs::crypto::PublicKey::from(vk);
    let id = key.account_id(prefix).map_err(|e| TxError::InvalidPrefix {
        prefix: prefix.into(),
        reason: e.to_string(),
    })?;
    Ok(id.to_string())
}

fn check_prefix(prefix: &str) -> Result<(), TxError> {
    if prefix.is_empty()
        || prefix
            .chars()
            .any(|c| !c.is_ascii_lowercase() && !c.is_ascii_digit())
    {
        return Err(TxError::InvalidPrefix {
            prefix: prefix.into(),
            reason: "must be lower-case ASCII letters or digits".into(),
        });
    }
    Ok(())
}

/// bech32 (BIP-173) encoding of `bytes` with `prefix`. Errors: [`TxError::InvalidPrefix`].
pub fn bech32_address(prefix: &str, bytes: &[u8]) -> Result<String, TxError> {
    check_prefix(prefix)?;
    let id = cosmrs::AccountId::new(prefix, bytes).map_err(|e| TxError::InvalidPrefix {
        prefix: prefix.into(),
        reason: e.to_string(),
    })?;
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn twelve_word_mnemonic_gives_the_well_known_address() {
        // The cosmos address of the BIP-39 test mnemonic at m/44'/118'/0'/0/0.
        let k = TxKey::from_mnemonic(ABANDON, DEFAULT_HD_PATH, "cosmos").unwrap();
        assert_eq!(k.address(), "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4");
        let w = k.with_prefix("wasm").unwrap();
        assert_eq!(w.address(), "wasm19rl4cm2hmr8afy4kldpxz3fka4jguq0akuugk7");
    }

    #[test]
    fn other_hd_path_other_key() {
        let a = TxKey::from_mnemonic(ABANDON, DEFAULT_HD_PATH, "wasm").unwrap();
        let b = TxKey::from_mnemonic(ABANDON, "m/44'/118'/0'/0/1", "wasm").unwrap();
        assert_ne!(a.address(), b.address());
    }

    #[test]
    fn bad_inputs_are_refused() {
        let bad_checksum = ABANDON.replace("about", "abandon");
        assert!(matches!(
            TxKey::from_mnemonic(&bad_checksum, DEFAULT_HD_PATH, "wasm"),
            Err(TxError::InvalidMnemonic { .. })
        ));
        assert!(matches!(
            TxKey::from_mnemonic(ABANDON, "m/44/x", "wasm"),
            Err(TxError::InvalidHdPath { .. })
        ));
        assert!(matches!(
            TxKey::from_mnemonic(ABANDON, DEFAULT_HD_PATH, "Wasm"),
            Err(TxError::InvalidPrefix { .. })
        ));
    }

    #[test]
    fn debug_redacts_the_secret() {
        let k = TxKey::from_mnemonic(ABANDON, DEFAULT_HD_PATH, "wasm").unwrap();
        let s = format!("{k:?}");
        assert!(s.contains("redacted"));
        assert!(!s.contains(&hex::encode(k.signing.to_bytes())));
    }

    #[test]
    fn mnemonic_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.txt");
        std::fs::write(&p, format!("  {ABANDON}\n")).unwrap();
        let k = TxKey::from_file(&p, DEFAULT_HD_PATH, "wasm").unwrap();
        assert_eq!(k.address(), "wasm19rl4cm2hmr8afy4kldpxz3fka4jguq0akuugk7");
        let missing = MnemonicSource::Env("OPG_TEST_MNEMONIC_THAT_IS_NOT_SET".into());
        assert!(matches!(missing.read(), Err(TxError::KeySource { .. })));
        std::fs::write(&p, "\n").unwrap();
        assert!(matches!(
            TxKey::from_file(&p, DEFAULT_HD_PATH, "wasm"),
            Err(TxError::KeySource { .. })
        ));
    }
}
