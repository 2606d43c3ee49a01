//! `SubmitReceipts` with receipts in the compact form (`compact`, `opg_core::codec`): accepted like
//! their JSON form, indexed after the JSON receipts, and each bad entry rejected with its own
//! reason while the others land.
mod common;

use common::*;
use cosmwasm_std::Binary;
use opg_core::msg::verifier::ExecuteMsg;
use receipt_verifier::ContractError;

#[test]
fn compact_receipts_are_accepted_like_their_json_form() {
    let mut s = Suite::new();
    let v1_proxy = s.spec();
    let mut v2_proxy = s.spec();
    v2_proxy.version = 2;
    let v1_local = s.local_spec();
    let json_only = s.spec();
    let receipts = [&v1_proxy, &v2_proxy, &v1_local].map(|sp| s.receipt(sp));
    let compact: Vec<Binary> = receipts.iter().map(|r| s.compact(r)).collect();
    let json = s.receipt(&json_only);

    let (data, res) = s.submit_mixed(vec![json], compact).unwrap();

    assert_eq!(reasons(&data), vec!["accepted"; 4]);
    assert_eq!((data.accepted, data.rejected), (4, 0));
    // JSON receipts first, then the compact ones, in order
    for (i, r) in data.receipts.iter().enumerate() {
        assert_eq!(r.index, i as u32);
    }
    assert_eq!(
        data.receipts[1].nonce,
        Some(format!("0x{}", hex::encode(v1_proxy.nonce)))
    );
    assert_eq!(attr(&res, "accepted").as_deref(), Some("4"));
    // the nonces are consumed: the same receipts again, in either form, are replays
    let again = s.receipt(&v1_proxy);
    let (data, _) = s
        .submit_mixed(vec![again.clone()], vec![s.compact(&again)])
        .unwrap();
    assert_eq!(
        reasons(&data),
        vec!["nonce_already_used", "nonce_already_used"]
    );
    let recorded = s.recorded();
    assert_eq!(recorded.len(), 1, "one RecordUsage for the first batch");
}

#[test]
fn each_bad_compact_entry_is_rejected_with_its_reason_while_the_others_land() {
    let mut s = Suite::new();
    let good = s.spec();
    let twin = s.spec();
    let tampered = s.spec();
    let good_bytes = s.compact(&s.receipt(&good));
    let mut version = s.compact(&s.receipt(&twin)).to_vec();
    version[0] = 9;
    let mut kind = version.clone();
    kind[0] = 1;
    kind[1] = 7;
    let mut truncated = good_bytes.to_vec();
    truncated.pop();
    let mut trailing = s.compact(&s.receipt(&twin)).to_vec();
    trailing.push(0);
    // a flipped bit in the node signature (the settlement's 98 bytes end the receipt): decodes,
    // fails the signature check
    let mut bad_sig = s.compact(&s.receipt(&tampered)).to_vec();
    let n = bad_sig.len();
    bad_sig[n - 100] ^= 1;
    // the same receipt twice in one batch
    let entries: Vec<Binary> = [
        good_bytes.to_vec(),
        version,
        kind,
        truncated,
        trailing,
        vec![],
        bad_sig,
        good_bytes.to_vec(),
    ]
    .into_iter()
    .map(Binary::new)
    .collect();

    let (data, res) = s.submit_mixed(vec![], entries).unwrap();

    assert_eq!(
        reasons(&data),
        vec![
            "accepted",
            "compact_unsupported_version",
            "compact_unknown_kind",
            "compact_malformed",
            "compact_malformed",
            "compact_unsupported_version",
            "invalid_node_signature",
            "duplicate_in_batch",
        ]
    );
    assert_eq!((data.accepted, data.rejected), (1, 7));
    assert_eq!(
        attr(&res, "rejected_2").as_deref(),
        Some("compact_unknown_kind")
    );
    // undecodable entries have no payer; decoded ones do
    assert_eq!(data.receipts[1].payer, None);
    assert!(data.receipts[6].payer.is_some());
}

#[test]
fn compact_entries_count_against_max_batch() {
    let mut s = Suite::new();
    s.set_max_batch(2);
    let specs = [s.spec(), s.spec(), s.spec()];
    let compact: Vec<Binary> = specs.iter().map(|sp| s.compact(&s.receipt(sp))).collect();
    let err = s.submit_mixed(vec![], compact).unwrap_err();
    assert!(
        matches!(err, ContractError::BatchTooLarge { max: 2, got: 3 }),
        "{err:?}"
    );
    let err = s
        .execute(
            &s.app.api().addr_make("keeper"),
            &ExecuteMsg::SubmitReceipts(opg_core::msg::verifier::SubmitReceiptsMsg {
                receipts: vec![],
                heartbeats: vec![],
                compact: vec![],
            }),
        )
        .unwrap_err();
    assert!(matches!(err, ContractError::EmptyBatch {}), "{err:?}");
}
