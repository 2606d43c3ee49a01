//! The devnet's funded dev accounts: well-known BIP-39 mnemonics (like anvil's), derived on
//! `m/44'/118'/0'/0/0` with bech32 prefix [`super::PREFIX`]. DEV ONLY: anyone can read these keys.
use cosmrs::crypto::secp256k1::SigningKey;
use sha2::{Digest, Sha256};

/// The HD path of the dev accounts (Cosmos coin type 118, as `wasmd keys add` and CosmJS use).
pub const HD_PATH: &str = "m/44'/118'/0'/0/0";

/// A funded dev account.
#[derive(Clone, Debug)]
pub struct DevAccount {
    /// The 24-word BIP-39 mnemonic (English).
    pub mnemonic: String,
    /// Its bech32 address under the devnet prefix.
    pub address: String,
}

impl DevAccount {
    /// The `index`-th dev account: entropy = sha256("opg-devnet/dev-account/{index}").
    ///
    /// Errors: a failure of the BIP-39/BIP-32 libraries (not expected for these inputs).
    pub fn derive(index: u32, prefix: &str) -> anyhow::Result<Self> {
        let entropy = Sha256::digest(format!("opg-devnet/dev-account/{index}"));
        let mnemonic = bip39::Mnemonic::from_entropy(&entropy)?;
        let key = signing_key(&mnemonic.to_string(), HD_PATH)?;
        let address = key
            .public_key()
            .account_id(prefix)
            .map_err(|e| anyhow::anyhow!("address of dev account {index}: {e}"))?
            .to_string();
        Ok(DevAccount {
            mnemonic: mnemonic.to_string(),
            address,
        })
    }

    /// The account's secp256k1 signing key.
    ///
    /// Errors: as [`signing_key`].
    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        signing_key(&self.mnemonic, HD_PATH)
    }
}

/// The secp256k1 key of `mnemonic` (empty passphrase) at BIP-32 `path`.
///
/// Errors: an invalid mnemonic or path.
pub fn signing_key(mnemonic: &str, path: &str) -> anyhow::Result<SigningKey> {
    let mnemonic = bip39::Mnemonic::parse_normalized(mnemonic)?;
    let seed = mnemonic.to_seed("");
    let path: bip32::DerivationPath = path.parse()?;
    let xprv = bip32::XPrv::derive_from_path(seed, &path)?;
    SigningKey::from_slice(&xprv.private_key().to_bytes())
        .map_err(|e| anyhow::anyhow!("secp256k1 key from {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_accounts_are_distinct_and_stable() {
        let a = DevAccount::derive(0, "wasm").unwrap();
        let b = DevAccount::derive(1, "wasm").unwrap();
        assert_ne!(a.address, b.address);
        assert!(a.address.starts_with("wasm1"));
        assert_eq!(a.mnemonic.split(' ').count(), 24);
        assert_eq!(a.address, DevAccount::derive(0, "wasm").unwrap().address);
    }

    #[test]
    fn known_vector_matches_cosmjs_derivation() {
        // the well-known "abandon … art" vector: cosmos1 address from CosmJS docs / wasmd keys add
        let m = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art";
        let addr = signing_key(m, HD_PATH)
            .unwrap()
            .public_key()
            .account_id("cosmos")
            .unwrap()
            .to_string();
        assert_eq!(addr, "cosmos1r5v5srda7xfth3hn2s26txvrcrntldjumt8mhl");
    }
}
