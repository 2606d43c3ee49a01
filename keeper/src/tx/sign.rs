//! SIGN_MODE_DIRECT: `TxBody` + `AuthInfo` → `SignDoc` → signature → `TxRaw`, byte-identical to
//! CosmJS's `SigningCosmWasmClient.sign` with a `DirectSecp256k1HdWallet`.
use std::str::FromStr;

use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::crypto::secp256k1::PubKey;
use cosmrs::proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmrs::proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee as ProtoFee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use cosmrs::proto::prost::Message;
use cosmrs::Any;
use cosmwasm_std::{Decimal, Uint128};
use serde::{Deserialize, Serialize};

use super::keys::TxKey;
use super::msgs::{splice_raw, Coin, WasmMsg};
use super::TxError;

/// `/cosmos.crypto.secp256k1.PubKey`.
pub const SECP256K1_PUBKEY_TYPE_URL: &str = "/cosmos.crypto.secp256k1.PubKey";

/// The fee of a tx: coins paid and the gas limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// Coins paid (may be empty on a zero-gas-price chain).
    pub amount: Vec<Coin>,
    /// Gas limit, gas units.
    pub gas_limit: u64,
}

/// A gas price such as `0.025ustake`: `amount` base units of `denom` per gas unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasPrice {
    /// Base units per gas unit (18 decimals).
    pub amount: Decimal,
    /// Denomination.
    pub denom: String,
}

impl FromStr for GasPrice {
    type Err = TxError;

    /// Parses `0.025ustake`. Errors: [`TxError::InvalidAmount`].
    fn from_str(s: &str) -> Result<Self, TxError> {
        let s = s.trim();
        let split = s
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len());
        let bad = || TxError::InvalidAmount {
            what: "gas price".into(),
            value: s.into(),
            expected: "a decimal amount and a denom, e.g. 0.025ustake".into(),
        };
        if split == 0 || split == s.len() {
            return Err(bad());
        }
        let amount = Decimal::from_str(&s[..split]).map_err(|_| bad())?;
        Ok(GasPrice {
            amount,
            denom: s[split..].into(),
        })
    }
}

impl GasPrice {
    /// The fee of `gas_limit` gas at this price, rounded up to a whole base unit (as CosmJS's
    /// `calculateFee`). Errors: [`TxError::InvalidAmount`] on overflow.
    pub fn fee(&self, gas_limit: u64) -> Result<Fee, TxError> {
        let amount = Uint128::from(gas_limit)
            .checked_mul_ceil(self.amount)
            .map_err(|_| TxError::InvalidAmount {
                what: "fee".into(),
                value: format!("{gas_limit} gas x {}{}", self.amount, self.denom),
                expected: "a fee below 2^128".into(),
            })?;
        Ok(Fee {
            amount: vec![Coin::new(amount.u128(), &self.denom)],
            gas_limit,
        })
    }
}

/// Who signs and where: what the chain checks the signature against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerData {
    /// Chain id.
    pub chain_id: String,
    /// The signer's account number.
    pub account_number: u64,
    /// The signer's sequence (nonce).
    pub sequence: u64,
}

/// The content of a transaction before signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxSpec {
    /// Messages, in order.
    pub msgs: Vec<WasmMsg>,
    /// Fee and gas limit.
    pub fee: Fee,
    /// Memo (free text).
    pub memo: String,
    /// Last block height at which the tx may be included; 0 = none.
    pub timeout_height: u64,
}

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    /// Encoded `TxBody`.
    pub body_bytes: Vec<u8>,
    /// Encoded `AuthInfo`.
    pub auth_info_bytes: Vec<u8>,
    /// The 64-byte signature.
    pub signature: Vec<u8>,
    /// Encoded `TxRaw`: what is broadcast.
    pub tx_raw: Vec<u8>,
}

impl SignedTx {
    /// The hash the chain reports: uppercase hex SHA-256 of the `TxRaw` bytes.
    pub fn hash(&self) -> String {
        crate::chain::tx_hash(&self.tx_raw)
    }
}

impl TxSpec {
    /// Validates the messages. Errors: [`TxError::InvalidMsg`], [`TxError::InvalidAmount`].
    pub fn validate(&self) -> Result<(), TxError> {
        if self.msgs.is_empty() {
            return Err(TxError::InvalidMsg {
                index: 0,
                reason: "a tx needs at least one message".into(),
            });
        }
        for (i, m) in self.msgs.iter().enumerate() {
            m.validate(i)?;
        }
        for c in &self.fee.amount {
            c.validate("fees")?;
        }
        Ok(())
    }

    /// The `TxBody` protobuf bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        TxBody {
            messages: self.msgs.iter().map(WasmMsg::to_any).collect(),
            memo: self.memo.clone(),
            timeout_height: self.timeout_height,
            extension_options: vec![],
            non_critical_extension_options: vec![],
        }
        .encode_to_vec()
    }

    fn proto_fee(&self) -> ProtoFee {
        ProtoFee {
            amount: self
                .fee
                .amount
                .iter()
                .map(|c| ProtoCoin {
                    denom: c.denom.clone(),
                    amount: c.amount.clone(),
                })
                .collect(),
            gas_limit: self.fee.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }
    }

    /// The `AuthInfo` bytes for one secp256k1 signer in SIGN_MODE_DIRECT at `sequence`.
    pub fn auth_info_bytes(&self, public_key: &[u8; 33], sequence: u64) -> Vec<u8> {
        let pk = Any {
            type_url: SECP256K1_PUBKEY_TYPE_URL.into(),
            value: PubKey {
                key: public_key.to_vec(),
            }
            .encode_to_vec(),
        };
        #[allow(deprecated)] // `tip` is deprecated in the SDK but still a field of the type
        AuthInfo {
            signer_infos: vec![SignerInfo {
                public_key: Some(pk),
                mode_info: Some(ModeInfo {
                    sum: Some(mode_info::Sum::Single(mode_info::Single {
                        mode: SignMode::Direct as i32,
                    })),
                }),
                sequence,
            }],
            fee: Some(self.proto_fee()),
            tip: None,
        }
        .encode_to_vec()
    }

    /// Signs in SIGN_MODE_DIRECT. Errors: those of [`TxSpec::validate`].
    pub fn sign(&self, key: &TxKey, signer: &SignerData) -> Result<SignedTx, TxError> {
        self.validate()?;
        let body_bytes = self.body_bytes();
        let auth_info_bytes = self.auth_info_bytes(&key.public_key(), signer.sequence);
        let sign_doc = SignDoc {
            body_bytes: body_bytes.clone(),
            auth_info_bytes: auth_info_bytes.clone(),
            chain_id: signer.chain_id.clone(),
            account_number: signer.account_number,
        }
        .encode_to_vec();
        let signature = key.sign(&sign_doc).to_vec();
        let tx_raw = TxRaw {
            body_bytes: body_bytes.clone(),
            auth_info_bytes: auth_info_bytes.clone(),
            signatures: vec![signature.clone()],
        }
        .encode_to_vec();
        Ok(SignedTx {
            body_bytes,
            auth_info_bytes,
            signature,
            tx_raw,
        })
    }

    /// The unsigned tx as JSON, as `wasmd tx … --generate-only` prints it (empty
    /// `signer_infos` and `signatures`; contract messages as their exact JSON text).
    /// Errors: those of [`TxSpec::validate`].
    pub fn unsigned_json(&self) -> Result<String, TxError> {
        self.validate()?;
        let messages: Vec<serde_json::Value> = self
            .msgs
            .iter()
            .enumerate()
            .map(|(i, m)| m.to_json(i))
            .collect();
        let value = serde_json::json!({
            "body": {
                "messages": messages,
                "memo": self.memo,
                "timeout_height": self.timeout_height.to_string(),
                "extension_options": [],
                "non_critical_extension_options": []
            },
            "auth_info": {
                "signer_infos": [],
                "fee": {
                    "amount": self.fee.amount,
                    "gas_limit": self.fee.gas_limit.to_string(),
                    "payer": "",
                    "granter": ""
                },
                "tip": null
            },
            "signatures": []
        });
        Ok(splice_raw(&value, &self.msgs))
    }
}

/// Decodes a `TxRaw`. Errors: [`TxError::Proto`].
pub fn decode_tx_raw(bytes: &[u8]) -> Result<TxRaw, TxError> {
    TxRaw::decode(bytes).map_err(|e| TxError::Proto {
        what: "TxRaw".into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::keys::DEFAULT_HD_PATH;
    use crate::tx::msgs::ExecuteSpec;
    use k256::ecdsa::signature::Verifier;

    fn key() -> TxKey {
        TxKey::from_mnemonic(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            DEFAULT_HD_PATH,
            "wasm",
        )
        .unwrap()
    }

    fn spec(sender: &str) -> TxSpec {
        TxSpec {
            msgs: vec![WasmMsg::execute(
                sender,
                &ExecuteSpec {
                    contract: "wasm1contract".into(),
                    msg: r#"{"claim":{}}"#.into(),
                    funds: vec![Coin::new(5, "uopg")],
                },
            )],
            fee: Fee {
                amount: vec![Coin::new(5000, "ustake")],
                gas_limit: 200_000,
            },
            memo: "m".into(),
            timeout_height: 77,
        }
    }

    #[test]
    fn gas_price_fee_rounds_up() {
        let p: GasPrice = "0.025ustake".parse().unwrap();
        assert_eq!(
            p.fee(345_678).unwrap().amount,
            vec![Coin::new(8642, "ustake")]
        );
        assert_eq!(
            p.fee(200_000).unwrap().amount,
            vec![Coin::new(5000, "ustake")]
        );
        let zero: GasPrice = "0uopg".parse().unwrap();
        assert_eq!(zero.fee(10).unwrap().amount, vec![Coin::new(0, "uopg")]);
        for bad in ["ustake", "0.025", "", "1..2u"] {
            assert!(bad.parse::<GasPrice>().is_err(), "{bad}");
        }
    }

    #[test]
    fn signature_verifies_over_the_sign_doc_and_tx_decodes() {
        let k = key();
        let s = spec(k.address());
        let signer = SignerData {
            chain_id: "c-1".into(),
            account_number: 3,
            sequence: 9,
        };
        let signed = s.sign(&k, &signer).unwrap();
        let raw = decode_tx_raw(&signed.tx_raw).unwrap();
        assert_eq!(raw.body_bytes, signed.body_bytes);
        let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
        assert_eq!(body.timeout_height, 77);
        assert_eq!(body.memo, "m");
        let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
        assert_eq!(auth.signer_infos[0].sequence, 9);
        assert_eq!(auth.fee.unwrap().gas_limit, 200_000);
        let doc = SignDoc {
            body_bytes: raw.body_bytes.clone(),
            auth_info_bytes: raw.auth_info_bytes.clone(),
            chain_id: "c-1".into(),
            account_number: 3,
        }
        .encode_to_vec();
        let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&k.public_key()).unwrap();
        let sig = k256::ecdsa::Signature::from_slice(&raw.signatures[0]).unwrap();
        vk.verify(&doc, &sig).unwrap();
        // another chain id gives another signature (the chain would refuse this one)
        let other = s
            .sign(
                &k,
                &SignerData {
                    chain_id: "c-2".into(),
                    ..signer
                },
            )
            .unwrap();
        assert_ne!(other.signature, signed.signature);
    }

    #[test]
    fn generate_only_json_has_wasmd_shape() {
        let k = key();
        let json = spec(k.address()).unsigned_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["body"]["messages"][0]["@type"],
            "/cosmwasm.wasm.v1.MsgExecuteContract"
        );
        assert_eq!(
            v["body"]["messages"][0]["msg"],
            serde_json::json!({"claim": {}})
        );
        assert_eq!(v["body"]["timeout_height"], "77");
        assert_eq!(v["auth_info"]["fee"]["gas_limit"], "200000");
        assert_eq!(v["auth_info"]["fee"]["amount"][0]["amount"], "5000");
        assert_eq!(v["signatures"], serde_json::json!([]));
    }

    #[test]
    fn empty_tx_is_refused() {
        let mut s = spec("x");
        s.msgs.clear();
        assert!(matches!(
            s.sign(
                &key(),
                &SignerData {
                    chain_id: "c".into(),
                    account_number: 0,
                    sequence: 0
                }
            ),
            Err(TxError::InvalidMsg { .. })
        ));
    }
}
