//! A keyring of named account keys, in the spirit of the Cosmos SDK keyring (`wasmd keys …`):
//! each key is a BIP-39 mnemonic (derived on `m/44'/118'/0'/0/0` by default, as `wasmd keys add`
//! and CosmJS do) stored under `<home>/keyring-<backend>/<name>.json`, so `--from NAME` signs.
//!
//! Backends:
//! * `test`: the mnemonic in plain text (mode 0600). For development chains only, as the SDK's.
//! * `file`: the mnemonic encrypted with a passphrase: scrypt (log2 N = 15, r = 8, p = 1; the
//!   RustCrypto `scrypt` crate) derives a 256-bit key, ChaCha20-Poly1305 (RFC 8439, the
//!   `chacha20poly1305` crate) seals the phrase with a random 96-bit nonce; the name and address
//!   are the associated data, so a file renamed or edited does not open. The passphrase comes
//!   from `$OPG_KEYRING_PASSPHRASE` or is asked on the terminal.
//!
//! The secret never reaches logs or `Debug` output.
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::keys::TxKey;

/// Environment variable holding the `file` backend's passphrase (otherwise asked on a terminal).
pub const PASSPHRASE_ENV: &str = "OPG_KEYRING_PASSPHRASE";

/// Keyring backend (`--keyring-backend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Encrypted with a passphrase (scrypt + ChaCha20-Poly1305).
    File,
    /// Plain text; development only.
    Test,
}

impl Backend {
    fn dir_name(self) -> &'static str {
        match self {
            Backend::File => "keyring-file",
            Backend::Test => "keyring-test",
        }
    }
}

/// Errors of the keyring; each names the key or file.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// No key of that name.
    #[error(
        "no key named {name:?} in the {backend:?} keyring at {dir} (`opg keys list` shows them)"
    )]
    NotFound {
        /// The name.
        name: String,
        /// The backend.
        backend: Backend,
        /// The keyring directory.
        dir: PathBuf,
    },
    /// A key of that name exists.
    #[error("a key named {0:?} exists; delete its file first or choose another name")]
    Exists(String),
    /// The name is not usable as a file name.
    #[error("invalid key name {0:?}: use letters, digits, '-', '_' and '.'")]
    InvalidName(String),
    /// Wrong passphrase or a tampered file.
    #[error("cannot decrypt key {0:?}: wrong passphrase or a modified key file")]
    Decrypt(String),
    /// I/O or format errors, with the file.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key itself (mnemonic, path, prefix).
    #[error(transparent)]
    Key(#[from] super::TxError),
    /// No passphrase available.
    #[error("the file keyring needs a passphrase: set ${PASSPHRASE_ENV} or run on a terminal")]
    NoPassphrase,
}

/// One stored key (the JSON file).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    name: String,
    address: String,
    /// Compressed secp256k1 public key, hex.
    pubkey: String,
    hd_path: String,
    /// `test` backend: the phrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mnemonic: Option<String>,
    /// `file` backend: scrypt salt, ChaCha20-Poly1305 nonce and sealed phrase, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    kdf: String,
    log_n: u8,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// What `keys show|list` print: `{"name", "type": "local", "address", "pubkey"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// The key's name.
    pub name: String,
    /// Always `local` (the key lives in this keyring).
    #[serde(rename = "type")]
    pub kind: String,
    /// Bech32 account address.
    pub address: String,
    /// Compressed secp256k1 public key, hex.
    pub pubkey: String,
}

/// A keyring directory.
#[derive(Clone, Debug)]
pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
    prefix: String,
    passphrase: Option<String>,
}

const SCRYPT_LOG_N: u8 = 15;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn seal_key(passphrase: &str, salt: &[u8], log_n: u8) -> Result<[u8; 32], KeyringError> {
    let params = scrypt::Params::new(log_n, 8, 1, 32).map_err(|e| KeyringError::File {
        path: PathBuf::new(),
        reason: format!("scrypt parameters: {e}"),
    })?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut key).map_err(|e| {
        KeyringError::File {
            path: PathBuf::new(),
            reason: format!("scrypt: {e}"),
        }
    })?;
    Ok(key)
}

impl Keyring {
    /// The keyring of `backend` under `home` (`<home>/keyring-<backend>`), addresses with
    /// `prefix`. The passphrase of the `file` backend is read when first needed.
    pub fn open(home: &Path, backend: Backend, prefix: &str) -> Self {
        Keyring {
            dir: home.join(backend.dir_name()),
            backend,
            prefix: prefix.into(),
            passphrase: None,
        }
    }

    /// Uses `passphrase` for the `file` backend instead of the environment or a prompt.
    pub fn with_passphrase(mut self, passphrase: &str) -> Self {
        self.passphrase = Some(passphrase.into());
        self
    }

    fn path(&self, name: &str) -> Result<PathBuf, KeyringError> {
        if !valid_name(name) {
            return Err(KeyringError::InvalidName(name.into()));
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    fn passphrase(&self, confirm: bool) -> Result<String, KeyringError> {
        if let Some(p) = &self.passphrase {
            return Ok(p.clone());
        }
        if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
            return Ok(p);
        }
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Err(KeyringError::NoPassphrase);
        }
        let p = rpassword::prompt_password("Enter keyring passphrase: ")
            .map_err(|_| KeyringError::NoPassphrase)?;
        if confirm {
            let again = rpassword::prompt_password("Re-enter keyring passphrase: ")
                .map_err(|_| KeyringError::NoPassphrase)?;
            if again != p {
                return Err(KeyringError::Decrypt("passphrases do not match".into()));
            }
        }
        Ok(p)
    }

    /// Stores `mnemonic` (derived at `hd_path`) as `name`. Errors: the name exists or is invalid,
    /// the mnemonic or path is invalid, the file cannot be written.
    pub fn add(&self, name: &str, mnemonic: &str, hd_path: &str) -> Result<KeyInfo, KeyringError> {
        let path = self.path(name)?;
        if path.exists() {
            return Err(KeyringError::Exists(name.into()));
        }
        let phrase = mnemonic.split_whitespace().collect::<Vec<_>>().join(" ");
        let key = TxKey::from_mnemonic(&phrase, hd_path, &self.prefix)?;
        let mut stored = Stored {
            name: name.into(),
            address: key.address().into(),
            pubkey: hex::encode(key.public_key()),
            hd_path: hd_path.into(),
            mnemonic: None,
            sealed: None,
        };
        match self.backend {
            Backend::Test => stored.mnemonic = Some(phrase),
            Backend::File => {
                let pass = self.passphrase(true)?;
                let mut salt = [0u8; 16];
                let mut nonce = [0u8; 12];
                rand::rngs::OsRng.fill_bytes(&mut salt);
                rand::rngs::OsRng.fill_bytes(&mut nonce);
                let k = seal_key(&pass, &salt, SCRYPT_LOG_N)?;
                let aad = format!("{}/{}", stored.name, stored.address);
                let ct = ChaCha20Poly1305::new(&k.into())
                    .encrypt(
                        &Nonce::from(nonce),
                        Payload {
                            msg: phrase.as_bytes(),
                            aad: aad.as_bytes(),
                        },
                    )
                    .map_err(|_| KeyringError::Decrypt(name.into()))?;
                stored.sealed = Some(Sealed {
                    kdf: "scrypt".into(),
                    log_n: SCRYPT_LOG_N,
                    salt: hex::encode(salt),
                    nonce: hex::encode(nonce),
                    ciphertext: hex::encode(ct),
                });
            }
        }
        let io = |e: std::io::Error| KeyringError::File {
            path: path.clone(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let text = serde_json::to_string_pretty(&stored).expect("a key serialises");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        use std::io::Write;
        opts.open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(io)?;
        Ok(info(&stored))
    }

    fn read(&self, name: &str) -> Result<Stored, KeyringError> {
        let path = self.path(name)?;
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => KeyringError::NotFound {
                name: name.into(),
                backend: self.backend,
                dir: self.dir.clone(),
            },
            _ => KeyringError::File {
                path: path.clone(),
                reason: e.to_string(),
            },
        })?;
        serde_json::from_str(&text).map_err(|e| KeyringError::File {
            path,
            reason: format!("not a key file: {e}"),
        })
    }

    /// Whether a key named `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.path(name).map(|p| p.exists()).unwrap_or(false)
    }

    /// The public part of `name`. Errors: [`KeyringError::NotFound`].
    pub fn show(&self, name: &str) -> Result<KeyInfo, KeyringError> {
        Ok(info(&self.read(name)?))
    }

    /// Every key, by name.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyringError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => {
                return Err(KeyringError::File {
                    path: self.dir.clone(),
                    reason: e.to_string(),
                })
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(String::from)
            })
            .collect();
        names.sort();
        names.iter().map(|n| self.show(n)).collect()
    }

    /// The mnemonic of `name` (decrypted for `file`). Errors: not found, wrong passphrase.
    pub fn mnemonic(&self, name: &str) -> Result<String, KeyringError> {
        let s = self.read(name)?;
        if let Some(m) = s.mnemonic {
            return Ok(m);
        }
        let sealed = s.sealed.ok_or_else(|| KeyringError::File {
            path: self.dir.join(format!("{name}.json")),
            reason: "neither mnemonic nor sealed".into(),
        })?;
        let bad = || KeyringError::Decrypt(name.into());
        let salt = hex::decode(&sealed.salt).map_err(|_| bad())?;
        let nonce: [u8; 12] = hex::decode(&sealed.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(bad)?;
        let ct = hex::decode(&sealed.ciphertext).map_err(|_| bad())?;
        let k = seal_key(&self.passphrase(false)?, &salt, sealed.log_n)?;
        let aad = format!("{}/{}", s.name, s.address);
        let plain = ChaCha20Poly1305::new(&k.into())
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }

    /// The signing key of `name` (at its stored HD path). Errors: as [`Keyring::mnemonic`].
    pub fn key(&self, name: &str) -> Result<TxKey, KeyringError> {
        let s = self.read(name)?;
        Ok(TxKey::from_mnemonic(
            &self.mnemonic(name)?,
            &s.hd_path,
            &self.prefix,
        )?)
    }
}

fn info(s: &Stored) -> KeyInfo {
    KeyInfo {
        name: s.name.clone(),
        kind: "local".into(),
        address: s.address.clone(),
        pubkey: s.pubkey.clone(),
    }
}

/// A new 24-word BIP-39 mnemonic from 256 bits of OS randomness.
pub fn new_mnemonic() -> String {
    let mut entropy = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut entropy);
    bip39::Mnemonic::from_entropy(&entropy)
        .expect("32 bytes is a valid BIP-39 entropy length")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::keys::DEFAULT_HD_PATH;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn test_backend_round_trips_the_well_known_address() {
        let dir = tempfile::tempdir().unwrap();
        let kr = Keyring::open(dir.path(), Backend::Test, "wasm");
        let info = kr.add("alice", ABANDON, DEFAULT_HD_PATH).unwrap();
        assert_eq!(info.address, "wasm19rl4cm2hmr8afy4kldpxz3fka4jguq0akuugk7");
        assert_eq!(kr.show("alice").unwrap(), info);
        assert_eq!(kr.key("alice").unwrap().address(), info.address);
        assert_eq!(kr.list().unwrap(), vec![info]);
        assert!(matches!(
            kr.add("alice", ABANDON, DEFAULT_HD_PATH),
            Err(KeyringError::Exists(_))
        ));
        assert!(matches!(kr.show("bob"), Err(KeyringError::NotFound { .. })));
        assert!(matches!(
            kr.add("../x", ABANDON, DEFAULT_HD_PATH),
            Err(KeyringError::InvalidName(_))
        ));
    }

    #[test]
    fn file_backend_encrypts_and_refuses_a_wrong_passphrase_or_an_edited_file() {
        let dir = tempfile::tempdir().unwrap();
        let kr = Keyring::open(dir.path(), Backend::File, "wasm").with_passphrase("correct horse");
        let info = kr.add("alice", ABANDON, DEFAULT_HD_PATH).unwrap();
        let file = dir.path().join("keyring-file/alice.json");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("abandon"), "{text}");
        assert_eq!(kr.mnemonic("alice").unwrap(), ABANDON);
        assert_eq!(kr.key("alice").unwrap().address(), info.address);
        let wrong = Keyring::open(dir.path(), Backend::File, "wasm").with_passphrase("wrong");
        assert!(matches!(
            wrong.mnemonic("alice"),
            Err(KeyringError::Decrypt(_))
        ));
        // the address is bound: a file edited to show another address does not open
        std::fs::write(&file, text.replace(&info.address, "wasm1other")).unwrap();
        assert!(matches!(
            kr.mnemonic("alice"),
            Err(KeyringError::Decrypt(_))
        ));
    }

    #[test]
    fn new_mnemonics_are_24_valid_words() {
        let m = new_mnemonic();
        assert_eq!(m.split(' ').count(), 24);
        TxKey::from_mnemonic(&m, DEFAULT_HD_PATH, "wasm").unwrap();
        assert_ne!(m, new_mnemonic());
    }
}
