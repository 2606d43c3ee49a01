//! Input validation shared by the node and governance handlers.
use cosmwasm_std::{Deps, Env};
use opg_core::crypto::ApiCrypto;
use opg_core::eip712::{attestation_digest, registry_domain_separator};
use opg_core::types::{ed25519_small_order, HardwareAttestation, NodeKey, NodeKindTag};
use opg_core::verify::{format_evm_address, parse_evm_address, recover_evm_address};

use crate::error::ContractError;
use crate::state::{
    ATTESTERS, CONFIG, MAX_MAX_ATTESTATION_VALIDITY, MAX_UNBONDING_PERIOD,
    MIN_MAX_ATTESTATION_VALIDITY, MODELS,
};

/// Shortest node id (chars).
pub const NODE_ID_MIN: usize = 3;
/// Longest node id (chars).
pub const NODE_ID_MAX: usize = 64;
/// Most models a node may list.
pub const MAX_NODE_MODELS: usize = 64;
/// Longest model id (bytes).
pub const MODEL_ID_MAX: usize = 128;
/// Longest endpoint / upstream URL (bytes).
pub const URL_MAX: usize = 256;
/// Longest hardware class id (bytes).
pub const HARDWARE_CLASS_MAX: usize = 64;
/// Longest jail reason (bytes).
pub const REASON_MAX: usize = 512;

/// A governance change of a number moves it at most one step: `old / 2 <= new <= 2 * old`
/// (rounded down; any value when `old` is zero), as the reward pool's rate-limited params.
/// Errors: `ConfigOutOfBounds { param }`.
pub fn bounded_step(param: &str, old: u128, new: u128) -> Result<(), ContractError> {
    let (min, max) = (old / 2, old.saturating_mul(2));
    if old != 0 && (new < min || new > max) {
        return Err(ContractError::ConfigOutOfBounds {
            param: param.to_string(),
            reason: format!(
                "{new} is more than one step (x2 or /2) from {old}: allowed {min}..={max}"
            ),
        });
    }
    Ok(())
}

/// `unbonding_period` in `1..=MAX_UNBONDING_PERIOD` (365 days). Errors: `ConfigOutOfBounds`.
pub fn unbonding_period(period: u64) -> Result<(), ContractError> {
    if period == 0 || period > MAX_UNBONDING_PERIOD {
        return Err(ContractError::ConfigOutOfBounds {
            param: "unbonding_period".to_string(),
            reason: format!("{period} s is outside 1..={MAX_UNBONDING_PERIOD} s"),
        });
    }
    Ok(())
}

/// `max_attestation_validity` in 1 day ..= 730 days (seconds). Errors: `ConfigOutOfBounds`.
pub fn max_attestation_validity(seconds: u64) -> Result<(), ContractError> {
    if !(MIN_MAX_ATTESTATION_VALIDITY..=MAX_MAX_ATTESTATION_VALIDITY).contains(&seconds) {
        return Err(ContractError::ConfigOutOfBounds {
            param: "max_attestation_validity".to_string(),
            reason: format!(
                "{seconds} s is outside {MIN_MAX_ATTESTATION_VALIDITY}..={MAX_MAX_ATTESTATION_VALIDITY} s"
            ),
        });
    }
    Ok(())
}

/// Node ids: 3..=64 chars of `[a-z0-9-_.]`. Errors: `InvalidNodeId`.
pub fn node_id(id: &str) -> Result<(), ContractError> {
    let ok = (NODE_ID_MIN..=NODE_ID_MAX).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ContractError::InvalidNodeId {
            node_id: id.to_string(),
        })
    }
}

/// Parses an EVM address (any case) into its lowercase `0x` form. Errors: `InvalidAddress { field }`.
pub fn evm_address(s: &str, field: &str) -> Result<String, ContractError> {
    parse_evm_address(s)
        .map(|a| format_evm_address(&a))
        .ok_or_else(|| ContractError::InvalidAddress {
            field: field.to_string(),
        })
}

/// Validates a node key and normalizes it (secp256k1 address lowercase). Errors: `InvalidKey`.
pub fn node_key(key: NodeKey) -> Result<NodeKey, ContractError> {
    match key {
        NodeKey::Secp256k1 { address } => match parse_evm_address(&address) {
            Some(a) => Ok(NodeKey::Secp256k1 {
                address: format_evm_address(&a),
            }),
            None => Err(ContractError::InvalidKey {
                reason: "secp256k1 key must be an EVM address (0x + 40 hex)".to_string(),
            }),
        },
        NodeKey::Ed25519 { public_key } => {
            if ed25519_small_order(public_key.as_slice()) {
                Err(ContractError::InvalidKey {
                    reason: "ed25519 public key is a small-order point: under the chain's ZIP-215 \
                             verification it accepts forged signatures"
                        .to_string(),
                })
            } else if public_key.len() == 32 {
                Ok(NodeKey::Ed25519 { public_key })
            } else {
                Err(ContractError::InvalidKey {
                    reason: format!(
                        "ed25519 public key must be 32 bytes, got {}",
                        public_key.len()
                    ),
                })
            }
        }
    }
}

/// A free-text field of 1..=`max` bytes. Errors: `InvalidField`.
pub fn text(value: &str, field: &str, max: usize) -> Result<(), ContractError> {
    if value.is_empty() || value.len() > max {
        return Err(ContractError::InvalidField {
            field: field.to_string(),
            reason: format!("must be 1-{max} bytes, got {}", value.len()),
        });
    }
    Ok(())
}

/// A node's model list: 1..=64 distinct ids, each on the model list with the provenance of `kind`.
/// Errors: `InvalidModels`, `ModelNotAllowed`.
pub fn models(deps: Deps, kind: NodeKindTag, models: &[String]) -> Result<(), ContractError> {
    if models.is_empty() || models.len() > MAX_NODE_MODELS {
        return Err(ContractError::InvalidModels {
            reason: format!("must list 1-{MAX_NODE_MODELS} models, got {}", models.len()),
        });
    }
    let wanted = kind.provenance();
    // Bounded by MAX_NODE_MODELS (64): quadratic duplicate check is cheap.
    for (i, model) in models.iter().enumerate() {
        if models[..i].contains(model) {
            return Err(ContractError::InvalidModels {
                reason: format!("duplicate model {model}"),
            });
        }
        let info = MODELS.may_load(deps.storage, model)?.ok_or_else(|| {
            ContractError::ModelNotAllowed {
                model: model.clone(),
                reason: "unknown model".to_string(),
            }
        })?;
        if info.provenance != wanted {
            return Err(ContractError::ModelNotAllowed {
                model: model.clone(),
                reason: format!(
                    "{} model on a {} node",
                    info.provenance.as_str(),
                    kind.as_str()
                ),
            });
        }
    }
    Ok(())
}

/// Checks a hardware attestation of `operator`'s node `key` at the current block: the attester is
/// allow-listed, it has not expired (valid while `now < expires_at`, as in
/// `opg_core::verify`), and its signature recovers the
/// attester over the EIP-712 digest in this registry's domain; its validity is at most the config's
/// `max_attestation_validity` (`expires_at <= now + max_attestation_validity`). Returns it with the
/// attester address normalized to lowercase.
/// Errors: `InvalidAddress { field: "attester" }`, `AttesterNotAllowed`, `AttestationExpired`,
/// `AttestationTooLong`, `InvalidField` (hardware class), `InvalidAttestation`.
pub fn attestation(
    deps: Deps,
    env: &Env,
    operator: &str,
    key: &NodeKey,
    mut attestation: HardwareAttestation,
) -> Result<HardwareAttestation, ContractError> {
    let attester = evm_address(&attestation.attester, "attester")?;
    if !ATTESTERS.has(deps.storage, &attester) {
        return Err(ContractError::AttesterNotAllowed { address: attester });
    }
    let now = env.block.time.seconds();
    if now >= attestation.expires_at {
        return Err(ContractError::AttestationExpired {
            expires_at: attestation.expires_at,
            now,
        });
    }
    let max_validity = CONFIG.load(deps.storage)?.max_attestation_validity;
    let max_expires_at = now.saturating_add(max_validity);
    if attestation.expires_at > max_expires_at {
        return Err(ContractError::AttestationTooLong {
            expires_at: attestation.expires_at,
            max_expires_at,
        });
    }
    text(
        &attestation.hardware_class,
        "hardware_class",
        HARDWARE_CLASS_MAX,
    )?;
    attestation.attester = attester;
    let domain = registry_domain_separator(&env.block.chain_id, env.contract.address.as_str());
    let digest = attestation_digest(&domain, operator, key, &attestation).ok_or_else(|| {
        ContractError::InvalidAttestation {
            reason: "evidence digest must be 32 bytes".to_string(),
        }
    })?;
    let recovered = recover_evm_address(
        &ApiCrypto(deps.api),
        &digest,
        attestation.signature.as_slice(),
    )
    .map(|a| format_evm_address(&a));
    if recovered.as_deref() != Some(attestation.attester.as_str()) {
        return Err(ContractError::InvalidAttestation {
            reason: "signature does not recover the attester".to_string(),
        });
    }
    Ok(attestation)
}
