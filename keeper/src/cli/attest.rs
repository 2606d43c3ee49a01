//! `opg attest`: a hardware attester signs a local node's attestation (DESIGN §3: EIP-712
//! `HardwareAttestation` under the registry's domain, bound to the node's operator and key).
//!
//! The attester's key is a secp256k1 key file (`opg node keygen --type secp256k1 --out
//! attester.key`); governance allow-lists its address (`opg gov add-attester --address 0x…`).
//! Offline: only the deploy state (chain id, registry address) is read; the output is the
//! attestation JSON `opg node register --kind local --attestation FILE` takes.
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use opg_core::eip712::registry_domain_separator;
use opg_core::sign::{sign_attestation, NodeSigner};
use sha2::{Digest, Sha256};

use super::node::{read_key_file, KeyFlags};
use crate::chain::cosmos::DeployState;

/// `opg attest`.
#[derive(Args, Debug)]
pub struct AttestArgs {
    /// The attester's secp256k1 key file (`opg node keygen --type secp256k1`).
    #[arg(long, value_name = "FILE")]
    pub attester_key: PathBuf,
    /// The node operator's account address (`wasm1…`), the registering signer.
    #[arg(long)]
    pub operator: String,
    /// The node's receipt-signing key the attestation binds.
    #[command(flatten)]
    pub key: KeyFlags,
    /// Hardware class (one of the pool's `hardware_weights` classes, e.g. `h100`, `rtx4090`).
    #[arg(long)]
    pub hardware_class: String,
    /// The evidence examined (a TEE quote, an audit report): its sha256 is signed.
    #[arg(long, value_name = "FILE", conflicts_with = "evidence_digest")]
    pub evidence: Option<PathBuf>,
    /// sha256 of the evidence, 64 hex digits.
    #[arg(long, required_unless_present = "evidence")]
    pub evidence_digest: Option<String>,
    /// Seconds from now until the attestation expires (the registry refuses more than its
    /// `max_attestation_validity`, 365 days by default).
    #[arg(long, default_value_t = 30 * 86_400)]
    pub valid_for: u64,
    /// The deploy state `opg deploy` wrote (chain id and registry address of the EIP-712 domain).
    #[arg(long, env = "OPG_DEPLOY_STATE", default_value = "deploy.json")]
    pub state: PathBuf,
    /// Write the attestation here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn digest(a: &AttestArgs) -> anyhow::Result<[u8; 32]> {
    if let Some(f) = &a.evidence {
        let bytes = std::fs::read(f)
            .with_context(|| format!("cannot read evidence file {}", f.display()))?;
        return Ok(Sha256::digest(bytes).into());
    }
    let hex_text = a.evidence_digest.as_deref().unwrap_or_default();
    hex::decode(hex_text.trim_start_matches("0x"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("--evidence-digest {hex_text:?}: expected 64 hex digits"))
}

/// The signed attestation as JSON. Errors: unreadable key, state or evidence; no node key.
pub fn attest(a: &AttestArgs, now: u64) -> anyhow::Result<serde_json::Value> {
    let attester = match read_key_file(&a.attester_key)? {
        NodeSigner::Secp256k1(s) => s,
        NodeSigner::Ed25519(_) => anyhow::bail!(
            "{}: an attester key is secp256k1 (an EVM address), not ed25519",
            a.attester_key.display()
        ),
    };
    let state = DeployState::read(&a.state)?;
    let key = a
        .key
        .node_key()?
        .context("give the node's key: --node-key-file, --key-address or --key-pubkey")?;
    let domain = registry_domain_separator(&state.chain_id, &state.deployment.registry);
    let att = sign_attestation(
        &attester,
        &domain,
        &a.operator,
        &key,
        &a.hardware_class,
        digest(a)?,
        now + a.valid_for,
    );
    Ok(serde_json::to_value(att)?)
}

/// Runs `opg attest`.
pub fn run(a: AttestArgs) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let text = serde_json::to_string_pretty(&attest(&a, now)?)?;
    match &a.out {
        Some(p) => {
            std::fs::write(p, text + "\n")
                .with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("attestation written to {}", p.display());
        }
        None => println!("{text}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::cosmos::CodeIds;
    use crate::chain::Deployment;
    use crate::cli::node::{keygen, KeyType};
    use opg_core::crypto::NativeCrypto;
    use opg_core::eip712::attestation_digest;
    use opg_core::types::HardwareAttestation;
    use opg_core::verify::recover_evm_address;

    #[test]
    fn the_attestation_verifies_under_the_registry_domain_for_that_operator_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let attester_key = dir.path().join("attester.key");
        let node_key = dir.path().join("node.key");
        let attester = keygen(KeyType::Secp256k1, &attester_key).unwrap();
        keygen(KeyType::Ed25519, &node_key).unwrap();
        let state = DeployState {
            chain_id: "opg-local-1".into(),
            code_ids: CodeIds {
                registry: 1,
                verifier: 2,
                pool: 3,
            },
            deployment: Deployment {
                registry: "wasm1registry".into(),
                verifier: "wasm1verifier".into(),
                pool: "wasm1pool".into(),
            },
        };
        let state_path = dir.path().join("deploy.json");
        std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
        let args = AttestArgs {
            attester_key,
            operator: "wasm1operator".into(),
            key: KeyFlags {
                key_type: KeyType::Ed25519,
                node_key_file: Some(node_key.clone()),
                key_address: None,
                key_pubkey: None,
            },
            hardware_class: "h100".into(),
            evidence: None,
            evidence_digest: Some("ab".repeat(32)),
            valid_for: 100,
            state: state_path,
            out: None,
        };
        let att: HardwareAttestation =
            serde_json::from_value(attest(&args, 1_000).unwrap()).unwrap();
        assert_eq!(att.expires_at, 1_100);
        assert_eq!(att.attester, attester["key_address"]);
        let domain = registry_domain_separator("opg-local-1", "wasm1registry");
        let key = read_key_file(&node_key).unwrap().key();
        let recover = |operator: &str| {
            let digest = attestation_digest(&domain, operator, &key, &att).unwrap();
            let a = recover_evm_address(&NativeCrypto, &digest, att.signature.as_slice()).unwrap();
            format!("0x{}", hex::encode(a))
        };
        assert_eq!(recover("wasm1operator"), att.attester.to_lowercase());
        // bound to the operator: another operator's digest recovers someone else
        assert_ne!(recover("wasm1other"), att.attester.to_lowercase());
    }

    #[test]
    fn a_bad_evidence_digest_is_named() {
        let a = AttestArgs {
            attester_key: "a".into(),
            operator: "o".into(),
            key: KeyFlags {
                key_type: KeyType::Secp256k1,
                node_key_file: None,
                key_address: None,
                key_pubkey: None,
            },
            hardware_class: "h100".into(),
            evidence: None,
            evidence_digest: Some("xyz".into()),
            valid_for: 1,
            state: "s".into(),
            out: None,
        };
        assert!(digest(&a).unwrap_err().to_string().contains("64 hex"));
    }
}
