//! The gas report (`scripts/gas-report.sh`): measurements on the artifacts and `docs/gas.md`.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use opg_core::msg::verifier::SubmitReceiptsResponse;
use opg_core::sign::signer_keys_of;

use crate::gas::{
    ContractUsage, CONTRACT_KEY_PREFIX_BYTES, INSTANCE_COST_PINNED, INSTANCE_COST_UNPINNED,
    READ_FLAT, READ_PER_BYTE, VM_GAS_PER_SDK_GAS, WRITE_FLAT, WRITE_PER_BYTE,
};
use crate::harness::TxResult;
use crate::storage::{LoggedOp, OpKind};
use crate::suite::{default_params, ok, payer, Suite, PROXY_ED, PROXY_SECP};

/// SDK gas per transaction byte (`x/auth` `TxSizeCostPerByte`), reported for information only.
pub const TX_SIZE_COST_PER_BYTE: u64 = 10;

/// One measured action.
#[derive(Clone, Debug)]
pub struct Row {
    /// What was done.
    pub action: String,
    /// Receipts in the batch (per-receipt figures), if a batch.
    pub receipts: Option<u64>,
    /// Usage per contract.
    pub usage: BTreeMap<&'static str, ContractUsage>,
    /// Bytes of the JSON execute message (the tx carries at least these).
    pub msg_bytes: u64,
    /// Attributes in all responses and their key + value bytes.
    pub attributes: (u64, u64),
    /// Storage operations per contract and namespace: `(contract, kind, namespace) -> (count, bytes)`.
    pub ops: BTreeMap<(&'static str, OpKind, String), (u64, u64)>,
}

impl Row {
    /// All contracts together.
    pub fn total(&self) -> ContractUsage {
        self.usage
            .values()
            .fold(ContractUsage::default(), |a, u| a + *u)
    }
    /// Estimated SDK gas of the whole action.
    pub fn sdk_gas(&self, pinned: bool) -> u64 {
        self.usage.values().map(|u| u.sdk_gas(pinned)).sum()
    }
    /// Estimated SDK gas per receipt (the whole action divided by the batch size).
    pub fn per_receipt(&self, pinned: bool) -> Option<u64> {
        self.receipts.map(|n| self.sdk_gas(pinned) / n)
    }
}

/// The cw-storage-plus namespace of a key: a length-prefixed namespace (maps), else the key itself
/// when printable (items), else hex.
pub fn namespace(key: &[u8]) -> String {
    if key.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([key[0], key[1]]));
        if n > 0 && key.len() >= 2 + n && key[2..2 + n].iter().all(|b| b.is_ascii_graphic()) {
            return String::from_utf8_lossy(&key[2..2 + n]).into_owned();
        }
    }
    if key.iter().all(|b| b.is_ascii_graphic()) {
        return String::from_utf8_lossy(key).into_owned();
    }
    key.iter().map(|b| format!("{b:02x}")).collect()
}

fn group(
    logs: BTreeMap<&'static str, Vec<LoggedOp>>,
) -> BTreeMap<(&'static str, OpKind, String), (u64, u64)> {
    let mut out = BTreeMap::new();
    for (contract, ops) in logs {
        for op in ops {
            let e = out
                .entry((contract, op.kind, namespace(&op.key)))
                .or_insert((0, 0));
            e.0 += 1;
            e.1 += op.bytes;
        }
    }
    out
}

fn attributes(tx: &TxResult) -> (u64, u64) {
    tx.responses
        .iter()
        .flat_map(|(_, r)| {
            r.attributes
                .iter()
                .chain(r.events.iter().flat_map(|e| e.attributes.iter()))
        })
        .fold((0, 0), |(n, b), a| {
            (n + 1, b + (a.key.len() + a.value.len()) as u64)
        })
}

/// Measures `f` (one top-level execute of `msg_bytes` bytes) on `suite`.
fn measure(
    suite: &mut Suite,
    action: String,
    receipts: Option<u64>,
    msg_bytes: usize,
    f: impl FnOnce(&mut Suite) -> Result<TxResult, String>,
) -> Row {
    suite.chain.take_logs();
    let before = suite.chain.usage();
    let tx = ok(&action, f(suite));
    let after = suite.chain.usage();
    let logs = suite.chain.take_logs();
    let usage = after
        .into_iter()
        .map(|(n, a)| (n, a - before.get(n).copied().unwrap_or_default()))
        .filter(|(_, u)| u.entries > 0)
        .collect();
    Row {
        action,
        receipts,
        usage,
        msg_bytes: msg_bytes as u64,
        attributes: attributes(&tx),
        ops: group(logs),
    }
}

/// How the receipts of a measured batch carry their signers' keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    /// As the keeper submits ([`opg_core::codec::encode_batch`]): the compact form, with one copy
    /// of the key of each signer that signs two or more receipts of the batch (those signatures
    /// are verified with `secp256k1_verify` under the key, the others recovered).
    Attached,
    /// Without: each secp256k1 signer is recovered (`secp256k1_recover_pubkey`).
    Recovered,
}

/// Measures one `SubmitReceipts` of `batch` receipts for `node`, each from a payer not seen before
/// in the epoch (payers `first_payer..`); asserts that all were accepted.
pub fn measure_submit(
    suite: &mut Suite,
    node: &str,
    first_payer: usize,
    batch: usize,
    keys: Keys,
) -> Row {
    let payers: Vec<usize> = (first_payer..first_payer + batch).collect();
    let how = match keys {
        Keys::Attached => "",
        Keys::Recovered => ", keys recovered",
    };
    let key = if node == PROXY_ED {
        "ed25519"
    } else {
        "secp256k1"
    };
    let label = format!("SubmitReceipts x{batch} ({key} node key{how})");
    measure_payers(suite, node, &payers, keys, label)
}

/// Measures one `SubmitReceipts` for `node` with one receipt per entry of `payers` (payer
/// indices; repeats are further calls of the same payer), signer keys as `keys`, under `label`;
/// asserts that all were accepted.
pub fn measure_payers(
    suite: &mut Suite,
    node: &str,
    payers: &[usize],
    keys: Keys,
    label: String,
) -> Row {
    let receipts: Vec<_> = payers
        .iter()
        .map(|&i| {
            let mut r = suite.receipt(node, &payer(i));
            if keys == Keys::Attached {
                r.signer_keys = Some(signer_keys_of(
                    &payer(i),
                    &suite.node(node).signer,
                    Some(&suite.facilitator),
                ));
            }
            r
        })
        .collect();
    let body = if keys == Keys::Attached {
        suite.keeper_msg(&receipts)
    } else {
        opg_core::msg::verifier::SubmitReceiptsMsg {
            receipts,
            heartbeats: vec![],
            compact: vec![],
        }
    };
    let msg = opg_core::msg::verifier::ExecuteMsg::SubmitReceipts(body.clone());
    let bytes = serde_json::to_vec(&msg).map(|v| v.len()).unwrap_or(0);
    measure(suite, label, Some(payers.len() as u64), bytes, |s| {
        s.submit_msg(body)
    })
}

/// Measures one `SubmitReceipts` of `batch` x402 Permit2 receipts (`scheme` `exact` or `upto`,
/// a quarter of the maximum settled) for `node`, each from a payer new to it, with the signer keys
/// attached as the keeper submits them; asserts that all were accepted.
pub fn measure_permit2(
    suite: &mut Suite,
    node: &str,
    first_payer: usize,
    batch: usize,
    scheme: &str,
) -> Row {
    let settled = (scheme == "upto").then_some(crate::suite::VALUE / 4);
    let mut receipts: Vec<_> = (first_payer..first_payer + batch)
        .map(|i| {
            let mut r = suite.permit2_receipt(node, &payer(i), scheme, settled);
            r.signer_keys = Some(signer_keys_of(
                &payer(i),
                &suite.node(node).signer,
                Some(&suite.facilitator),
            ));
            r
        })
        .collect();
    opg_core::codec::compact_for_submission(&mut receipts);
    let msg = opg_core::msg::verifier::ExecuteMsg::SubmitReceipts(
        opg_core::msg::verifier::SubmitReceiptsMsg {
            receipts: receipts.clone(),
            heartbeats: vec![],
            compact: vec![],
        },
    );
    let bytes = serde_json::to_vec(&msg).map(|v| v.len()).unwrap_or(0);
    let kind = if scheme == "upto" {
        "upto"
    } else {
        "Permit2 exact"
    };
    let label = format!("SubmitReceipts x{batch} x402 {kind} (secp256k1 node key)");
    measure(suite, label, Some(batch as u64), bytes, |s| {
        let tx = s.submit(receipts, vec![])?;
        let data: SubmitReceiptsResponse = tx.data();
        assert_eq!(
            data.accepted as usize,
            batch,
            "{kind}: {:?}",
            data.receipts.first()
        );
        Ok(tx)
    })
}

/// The cost of only reading a batch: `SubmitReceipts` of `batch` receipts with `max_batch` set to
/// `batch - 1` fails with `BatchTooLarge` right after the message is deserialized and the config
/// loaded, before any check. (`max_batch` is restored afterwards.)
pub fn measure_parse_only(suite: &mut Suite, node: &str, batch: usize) -> Row {
    let receipts: Vec<_> = (0..batch)
        .map(|i| suite.receipt(node, &payer(200_000 + i)))
        .collect();
    // as the keeper sends them (the compact form)
    let body = suite.keeper_msg(&receipts);
    let msg = opg_core::msg::verifier::ExecuteMsg::SubmitReceipts(body.clone());
    let bytes = serde_json::to_vec(&msg).map(|v| v.len()).unwrap_or(0);
    suite.set_max_batch(batch as u32 - 1);
    suite.chain.take_logs();
    let before = suite.chain.usage();
    let err = suite.submit_msg(body).expect_err("batch too large");
    assert!(err.contains("batch too large"), "{err}");
    let after = suite.chain.usage();
    let logs = suite.chain.take_logs();
    suite.set_max_batch(crate::suite::MAX_BATCH);
    Row {
        action: format!("SubmitReceipts x{batch} refused by max_batch (deserialization only)"),
        receipts: Some(batch as u64),
        usage: after
            .into_iter()
            .map(|(n, a)| (n, a - before.get(n).copied().unwrap_or_default()))
            .filter(|(_, u)| u.entries > 0)
            .collect(),
        msg_bytes: bytes as u64,
        attributes: (0, 0),
        ops: group(logs),
    }
}

/// All measurements of the report.
pub fn run() -> Vec<Row> {
    let mut rows = Vec::new();

    // Register: a proxy (secp256k1 key), a proxy (ed25519 key), a local node (attestation check).
    let mut s = Suite::deploy();
    s.setup_registry();
    for (i, what) in [
        "Register (proxy, secp256k1 key)",
        "Register (proxy, ed25519 key)",
        "Register (local, ed25519 key + attestation)",
    ]
    .into_iter()
    .enumerate()
    {
        let msg = s.register_msg(i);
        let bytes = serde_json::to_vec(&msg).map(|v| v.len()).unwrap_or(0);
        rows.push(measure(&mut s, what.to_string(), None, bytes, |s| {
            s.register(i)
        }));
    }

    // SubmitReceipts. A warm-up batch gives both nodes a tally in the epoch first (the steady
    // state); every measured receipt comes from a payer new to the node in the epoch.
    let mut s = Suite::new();
    let warm = vec![
        s.receipt(PROXY_SECP, &payer(100_000)),
        s.receipt(PROXY_ED, &payer(100_001)),
    ];
    let data: SubmitReceiptsResponse = ok("warm-up", s.submit(warm, vec![])).data();
    assert_eq!(data.accepted, 2, "warm-up receipts accepted");
    let mut next_payer = 0;
    for node in [PROXY_SECP, PROXY_ED] {
        for batch in [1usize, 10, 100] {
            let row = measure_submit(&mut s, node, next_payer, batch, Keys::Attached);
            next_payer += batch;
            rows.push(row);
        }
    }
    // Repeat payers, as real traffic has them: 100 receipts from 10 payers new to the node (10
    // calls each), then 100 more from the same payers (the pool keeps no per-payer state).
    let mut capped = Suite::new_with(default_params());
    let warm = vec![capped.receipt(PROXY_SECP, &payer(100_000))];
    let data: SubmitReceiptsResponse = ok("warm-up", capped.submit(warm, vec![])).data();
    assert_eq!(data.accepted, 1, "warm-up receipt accepted");
    let repeat: Vec<usize> = (0..100).map(|i| 300_000 + i % 10).collect();
    rows.push(measure_payers(
        &mut capped,
        PROXY_SECP,
        &repeat,
        Keys::Attached,
        "SubmitReceipts x100 from 10 payers, 10 calls each (secp256k1 node key)".to_string(),
    ));
    rows.push(measure_payers(
        &mut capped,
        PROXY_SECP,
        &repeat,
        Keys::Attached,
        "SubmitReceipts x100 from the same 10 payers, again (secp256k1 node key)".to_string(),
    ));
    // The same batch without signer keys (what a submitter that does not attach them pays).
    for node in [PROXY_SECP, PROXY_ED] {
        rows.push(measure_submit(
            &mut s,
            node,
            next_payer,
            100,
            Keys::Recovered,
        ));
        next_payer += 100;
    }

    // The same 100 receipts paid with x402 Permit2 `exact` and with `upto` (issue 15).
    for scheme in ["exact", "upto"] {
        rows.push(measure_permit2(&mut s, PROXY_SECP, next_payer, 100, scheme));
        next_payer += 100;
    }

    rows.push(measure_parse_only(&mut s, PROXY_SECP, 100));

    // FinalizeEpoch of the epoch with all that usage (epoch 0, empty, first: epochs go in order).
    let epoch = s.epoch();
    s.advance_past_grace(epoch);
    for e in 0..epoch {
        ok("finalize earlier epoch", s.finalize(e));
    }
    let msg = opg_core::msg::pool::ExecuteMsg::FinalizeEpoch { epoch };
    let bytes = serde_json::to_vec(&msg).map(|v| v.len()).unwrap_or(0);
    rows.push(measure(
        &mut s,
        "FinalizeEpoch (2 nodes with usage)".to_string(),
        None,
        bytes,
        |s| s.finalize(epoch),
    ));

    // Claim over 1 and over 30 epochs: one receipt per epoch for 31 epochs, all finalized.
    let mut s = Suite::new();
    let first = s.epoch();
    let mut next_to_finalize = 0;
    for e in first..first + 31 {
        let t = s.clock.start(e) + crate::suite::EPOCH_LENGTH / 2;
        if t > s.chain.now() {
            s.chain.set_time(t);
        }
        let r = s.receipt(PROXY_ED, &payer(e as usize));
        let data: SubmitReceiptsResponse = ok("submit", s.submit(vec![r], vec![])).data();
        assert_eq!(data.accepted, 1, "receipt of epoch {e} accepted");
        finalize_due(&mut s, &mut next_to_finalize);
    }
    s.advance_past_grace(first + 30);
    finalize_due(&mut s, &mut next_to_finalize);
    assert_eq!(next_to_finalize, first + 31, "all epochs finalized");
    for (limit, what) in [(1u32, "Claim over 1 epoch"), (30, "Claim over 30 epochs")] {
        let msg = opg_core::msg::pool::ExecuteMsg::Claim {
            node_id: PROXY_ED.to_string(),
            limit: Some(limit),
        };
        let bytes = serde_json::to_vec(&msg).map(|v| v.len()).unwrap_or(0);
        let row = measure(&mut s, what.to_string(), None, bytes, |s| {
            s.claim(PROXY_ED, Some(limit))
        });
        assert_eq!(claimed_epochs(&row), limit, "{what}: claimed epochs");
        rows.push(row);
    }
    rows
}

/// Finalizes every epoch that is due, in order.
fn finalize_due(s: &mut Suite, next: &mut u64) {
    while s.clock.finalizable(*next, s.chain.now()) {
        ok("finalize", s.finalize(*next));
        *next += 1;
    }
}

/// Epochs a claim paid: one `epoch_results` write per epoch claimed.
fn claimed_epochs(row: &Row) -> u32 {
    row.ops
        .iter()
        .filter(|((c, k, ns), _)| *c == "pool" && *k == OpKind::Write && ns == "epoch_results")
        .map(|(_, (n, _))| *n as u32)
        .sum()
}

/// The `SubmitReceipts` row of `batch` receipts for the node key `key` (`secp256k1`/`ed25519`),
/// with signer keys attached.
pub fn submit_row<'a>(rows: &'a [Row], key: &str, batch: u64) -> Option<&'a Row> {
    let label = format!("SubmitReceipts x{batch} ({key} node key)");
    rows.iter().find(|r| r.action == label)
}

fn fmt_n(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// SDK gas of `n` operations of `kind` with `bytes` key + value bytes in total.
pub fn op_gas(kind: OpKind, n: u64, bytes: u64) -> u64 {
    match kind {
        OpKind::Read => n * READ_FLAT + (bytes + n * CONTRACT_KEY_PREFIX_BYTES) * READ_PER_BYTE,
        OpKind::Write => n * WRITE_FLAT + (bytes + n * CONTRACT_KEY_PREFIX_BYTES) * WRITE_PER_BYTE,
        OpKind::Remove => n * crate::gas::DELETE_FLAT,
        OpKind::Next => {
            n * crate::gas::ITER_NEXT_FLAT + (bytes + n * CONTRACT_KEY_PREFIX_BYTES) * READ_PER_BYTE
        }
    }
}

/// SDK gas per receipt, reads and writes of `contract`'s storage namespace `ns` in `row`.
pub fn ns_cost(row: &Row, contract: &str, ns: &str) -> (u64, u64, u64) {
    let mut gas = 0;
    let (mut reads, mut writes) = (0, 0);
    for ((c, k, n), (count, bytes)) in &row.ops {
        if *c == contract && n == ns {
            gas += op_gas(*k, *count, *bytes);
            match k {
                OpKind::Read => reads += count,
                OpKind::Write => writes += count,
                _ => {}
            }
        }
    }
    (gas / row.receipts.unwrap_or(1).max(1), reads, writes)
}

/// SDK gas of one secp256k1 recovery (`secp256k1_recover_pubkey`, 194,000,000 VM gas).
pub const SECP256K1_RECOVER_SDK_GAS: u64 = 194_000_000 / VM_GAS_PER_SDK_GAS;
/// SDK gas of one secp256k1 verification with a known public key (96,000,000 VM gas).
pub const SECP256K1_VERIFY_SDK_GAS: u64 = 96_000_000 / VM_GAS_PER_SDK_GAS;
/// SDK gas of one ed25519 verification (35,000,000 VM gas).
pub const ED25519_VERIFY_SDK_GAS: u64 = 35_000_000 / VM_GAS_PER_SDK_GAS;

/// "Where the gas goes" of the batch-100 secp256k1 row, with the savings of concrete changes
/// computed from the measured operations.
fn breakdown(md: &mut String, rows: &[Row]) {
    let (Some(r), Some(parse)) = (
        submit_row(rows, "secp256k1", 100),
        rows.iter()
            .find(|r| r.action.contains("deserialization only")),
    ) else {
        return;
    };
    let n = r.receipts.unwrap_or(1).max(1);
    let per = |g: u64| g / n;
    let verifier = r.usage.get("verifier").copied().unwrap_or_default();
    let pool = r.usage.get("pool").copied().unwrap_or_default();
    let registry = r.usage.get("registry").copied().unwrap_or_default();
    // Every payer signs once (its key is not sent): recovered; the node and the facilitator sign
    // every receipt: verified under the one copy of their keys.
    let crypto = SECP256K1_RECOVER_SDK_GAS + 2 * SECP256K1_VERIFY_SDK_GAS;
    let verifier_vm = per(verifier.vm_gas / VM_GAS_PER_SDK_GAS);
    let parse_vm = per(parse
        .usage
        .get("verifier")
        .map(|u| u.vm_gas / VM_GAS_PER_SDK_GAS)
        .unwrap_or(0));
    let (nonces, _, _) = ns_cost(r, "verifier", "n");
    let (tallies, _, _) = ns_cost(r, "pool", "tallies");
    let total = r.per_receipt(true).unwrap_or(0);
    // verifier, registry (NodesByIds), pool (EpochParams query and RecordUsage)
    let entries: u64 = r.usage.values().map(|u| u.entries).sum();
    let _ = writeln!(
        md,
        "\n## Where the gas of a receipt goes (batch 100, secp256k1 node key, pinned)\n"
    );
    let _ = writeln!(md, "| part | SDK gas per receipt |\n|---|---:|");
    let lines = [
        (
            "verifier: secp256k1: payer recovered, node and facilitator verified under their keys",
            crypto,
        ),
        ("verifier: deserializing the message (`BatchTooLarge` run)", parse_vm),
        (
            "verifier: other Wasm (compact decoding, EIP-712/keccak in Wasm, response data, RecordUsage JSON)",
            verifier_vm.saturating_sub(crypto + parse_vm),
        ),
        ("verifier: consumed nonce (`n`: 1 read + 1 write)", nonces),
        ("pool: `tallies` (read + write per usage entry)", tallies),
        ("pool: Wasm", per(pool.vm_gas / VM_GAS_PER_SDK_GAS)),
        (
            "pool: other storage (config, params, epoch totals)",
            per(pool.kv.sdk_gas()).saturating_sub(tallies),
        ),
        ("registry (NodesByIds query)", per(registry.sdk_gas(true) - 2_000)),
        (
            "instance costs (contract entries, pinned: see below)",
            per(entries * INSTANCE_COST_PINNED),
        ),
        ("**total**", total),
        (
            "message bytes at 10 gas per byte (not in the total; real txs add the envelope)",
            per(r.msg_bytes * TX_SIZE_COST_PER_BYTE),
        ),
    ];
    for (what, gas) in lines {
        let what = what.replace(
            "contract entries, pinned: see below",
            &format!("{entries} contract entries, pinned"),
        );
        let _ = writeln!(md, "| {what} | {} |", fmt_n(gas));
    }
    // Savings of the protocol-level changes still open (the contract-level ones are made:
    // tallies written once per message, 16-byte hashed nonce keys, no per-payer state, signer keys
    // attached so signatures are verified rather than recovered).
    let _ = writeln!(
        md,
        "\n### Protocol changes still open and what they would save (computed from the operations above)\n"
    );
    let _ = writeln!(md, "| change | SDK gas saved per receipt |\n|---|---:|");
    let changes = [
        (
            "an ed25519 node key instead of secp256k1 (measured: the ed25519 row above)",
            SECP256K1_VERIFY_SDK_GAS - ED25519_VERIFY_SDK_GAS,
        ),
        (
            "one facilitator attestation per batch (over the list of payment digests) instead of one per receipt",
            SECP256K1_VERIFY_SDK_GAS,
        ),
    ];
    for (what, gas) in changes {
        let _ = writeln!(md, "| {what} | {} |", fmt_n(gas));
    }
}

/// `docs/gas.md`.
pub fn markdown(rows: &[Row]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Gas report\n");
    let _ = writeln!(
        md,
        "Generated by `scripts/gas-report.sh` (binary `gas-report` of `tests/vm`) from the optimized \
         artifacts in `artifacts/` (`scripts/build-wasm.sh`). Do not edit by hand.\n"
    );
    let _ = writeln!(md, "## Estimated SDK gas\n");
    let _ = writeln!(
        md,
        "| action | entries | VM gas | KV reads (bytes) | KV writes (bytes) | KV gas | SDK gas pinned | SDK gas unpinned | per receipt pinned | per receipt unpinned | message bytes per receipt | per receipt pinned + {TX_SIZE_COST_PER_BYTE}/message byte |"
    );
    let _ = writeln!(
        md,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in rows {
        let t = r.total();
        let per = |p| {
            r.per_receipt(p)
                .map(fmt_n)
                .unwrap_or_else(|| "-".to_string())
        };
        let n = r.receipts.unwrap_or(0);
        let (bytes_per, with_bytes) = match (n, r.per_receipt(true)) {
            (0, _) | (_, None) => ("-".to_string(), "-".to_string()),
            (n, Some(g)) => (
                fmt_n(r.msg_bytes / n),
                fmt_n(g + TX_SIZE_COST_PER_BYTE * r.msg_bytes / n),
            ),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} ({}) | {} ({}) | {} | {} | {} | {} | {} | {} | {} |",
            r.action,
            t.entries,
            fmt_n(t.vm_gas),
            t.kv.reads,
            fmt_n(t.kv.read_bytes),
            t.kv.writes,
            fmt_n(t.kv.write_bytes),
            fmt_n(r.usage.values().map(|u| u.kv.sdk_gas()).sum()),
            fmt_n(r.sdk_gas(true)),
            fmt_n(r.sdk_gas(false)),
            per(true),
            per(false),
            bytes_per,
            with_bytes,
        );
    }
    let _ = writeln!(md, "\n## Per contract\n");
    let _ = writeln!(
        md,
        "| action | contract | entries | VM gas | VM gas as SDK gas | KV gas | iterator steps | message bytes | attributes (bytes) |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        for (name, u) in &r.usage {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) |",
                r.action,
                name,
                u.entries,
                fmt_n(u.vm_gas),
                fmt_n(u.vm_gas.div_ceil(VM_GAS_PER_SDK_GAS)),
                fmt_n(u.kv.sdk_gas()),
                u.kv.nexts,
                fmt_n(r.msg_bytes),
                r.attributes.0,
                fmt_n(r.attributes.1),
            );
        }
    }
    if let Some(r) = submit_row(rows, "secp256k1", 100) {
        let _ = writeln!(
            md,
            "\n## Storage of `SubmitReceipts` x100 (secp256k1 node key), by namespace\n"
        );
        let _ = writeln!(
            md,
            "| contract | op | namespace | count | key + value bytes | bytes per op | SDK gas |"
        );
        let _ = writeln!(md, "|---|---|---|---:|---:|---:|---:|");
        for ((c, k, ns), (n, b)) in &r.ops {
            let gas = op_gas(*k, *n, *b);
            let _ = writeln!(
                md,
                "| {c} | {k:?} | `{ns}` | {n} | {} | {} | {} |",
                fmt_n(*b),
                b / n.max(&1),
                fmt_n(gas)
            );
        }
    }
    breakdown(&mut md, rows);
    let _ = writeln!(md, "\n## How it was measured\n");
    let _ = writeln!(
        md,
        "* Each contract runs from its artifact in its own `cosmwasm-vm` 2.3.5 instance (singlepass, \
         the VM wasmd uses) with `MockApi`; cross-contract queries are answered by the querying \
         instance's `MockQuerier` (`update_wasm`), which calls the queried contract's instance, and \
         messages in responses (`RecordUsage`, bank sends) are executed like a chain would. So a \
         `SubmitReceipts` enters the verifier, the registry (`NodesByIds` query) and the pool \
         (`RecordUsage`); every entry is counted.\n\
         * **VM gas** is `GasReport::used_internally` (Wasm execution and host functions such as \
         `secp256k1_recover_pubkey` = 194,000,000, `secp256k1_verify` = 96,000,000, \
         `ed25519_verify` = 35,000,000); storage is not \
         charged in the VM (the storage wrapper reports no VM gas) because the SDK charges it.\n\
         * **KV gas** counts every `db_read`/`db_write`/`db_remove`/`db_next` with key and value \
         bytes through a `cosmwasm_vm::Storage` wrapper over `MockStorage`, priced with the SDK's \
         `KVGasConfig`: read {READ_FLAT} + {READ_PER_BYTE}/byte, write {WRITE_FLAT} + \
         {WRITE_PER_BYTE}/byte, delete 1,000, iterator step 30 + 3/byte of the returned record. wasmd \
         meters keys with the contract-store prefix (`0x03` + 32-byte address), so {CONTRACT_KEY_PREFIX_BYTES} \
         bytes are added to every key.\n\
         * **Estimated SDK gas** = VM gas / {} + KV gas + instance cost per entry ({} unpinned, {} \
         pinned).\n\
         * Not included in *SDK gas* (chain-specific): the tx size fee (wasmd's default \
         {TX_SIZE_COST_PER_BYTE} SDK gas per tx byte: the last column adds it for the message \
         bytes alone, without the tx envelope), signature verification of the tx, and wasmd's event \
         costs (attributes are listed).\n\
         * Batches: every receipt is a distinct payer (x402 v1 `exact` on Base Sepolia, USDC, with a \
         facilitator settlement attestation: three signatures per receipt: payer secp256k1, node \
         secp256k1 or ed25519, facilitator secp256k1), served by one proxy node that already has a \
         tally in the epoch. Receipts travel as the keeper submits them: in the compact binary form \
         (`opg_core::codec`, base64 in the JSON message: raw signatures, digests and addresses, \
         the network, asset and facilitator as indexes into the verifier's config, the token's \
         EIP-712 name and version from the asset config), with one copy, per batch, of the public \
         key (64 bytes) of every secp256k1 signer that signs at least two of its receipts \
         (~860 gas of tx size, against ~700 saved per signature), so the node's and the \
         facilitator's signatures are verified under their keys (`secp256k1_verify`) and a payer \
         that pays once is recovered. The rows marked *keys recovered* are the same batches as \
         the node's payment middleware produces them, in the JSON form: full requirements, no \
         keys. The *10 payers* rows: 10 calls per payer, in a suite whose payer \
         cap is 5 calls, so the second batch finds every payer at the cap.",
        fmt_n(VM_GAS_PER_SDK_GAS),
        fmt_n(INSTANCE_COST_UNPINNED),
        fmt_n(INSTANCE_COST_PINNED),
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_of_maps_items_and_raw_keys() {
        // Map "n" with a composite key.
        let mut k = vec![0, 1, b'n', 0, 8];
        k.extend_from_slice(&7u64.to_be_bytes());
        k.extend_from_slice(&[0xff; 52]);
        assert_eq!(namespace(&k), "n");
        assert_eq!(namespace(b"config"), "config");
        assert_eq!(namespace(&[0xff, 0x00]), "ff00");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(fmt_n(0), "0");
        assert_eq!(fmt_n(999), "999");
        assert_eq!(fmt_n(1_000), "1,000");
        assert_eq!(fmt_n(12_345_678), "12,345,678");
    }
}
