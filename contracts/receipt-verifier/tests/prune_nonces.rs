//! `PruneNonces`: bounded, only closed payments, watermark, and replays stay rejected.
mod common;

use common::*;
use receipt_verifier::ContractError;

#[test]
fn limit_bounds() {
    let mut s = Suite::new();
    assert_eq!(
        s.prune(0).unwrap_err(),
        ContractError::InvalidPruneLimit { limit: 0 }
    );
    assert_eq!(
        s.prune(1001).unwrap_err(),
        ContractError::InvalidPruneLimit { limit: 1001 }
    );
    let res = s.prune(1000).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("0"));
}

#[test]
fn nothing_is_pruned_while_the_epoch_is_open() {
    let mut s = Suite::new();
    let spec = s.spec();
    let r = s.receipt(&spec);
    s.submit(vec![r], vec![]).unwrap();
    s.set_time(s.clock.end(1) + GRACE - 1);
    let res = s.prune(10).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("0"));
    assert!(s.status(&spec.payer.address(), &spec.nonce).consumed);
}

#[test]
fn prunes_closed_payments_up_to_limit_and_replays_stay_rejected() {
    let mut s = Suite::new();
    let specs = [s.spec(), s.spec(), s.spec()];
    let receipts: Vec<_> = specs.iter().map(|sp| s.receipt(sp)).collect();
    let (data, _) = s.submit(receipts.clone(), vec![]).unwrap();
    assert_eq!(data.accepted, 3);
    let payer = specs[0].payer.address();
    assert_eq!(s.status(&payer, &specs[0].nonce).epoch, Some(1));

    // Epoch 1 closes.
    s.set_time(s.clock.end(1) + GRACE);
    let res = s.prune(2).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("2"));
    // One entry of epoch 1 is left: the watermark moves past empty epoch 0, not past epoch 1.
    assert_eq!(attr(&res, "pruned_through").as_deref(), Some("1"));

    let res = s.prune(10).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("1"));
    // Everything before the first open epoch (2) is gone.
    assert_eq!(attr(&res, "pruned_through").as_deref(), Some("2"));
    for sp in &specs {
        let st = s.status(&payer, &sp.nonce);
        assert!(!st.consumed);
        assert!(st.pruned);
        assert_eq!(st.epoch, None);
    }

    // The pruned payments cannot be replayed: their epoch is closed.
    let (data, _) = s.submit(receipts, vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["epoch_closed"; 3]);
    assert_eq!(s.recorded().len(), 1);

    // Pruning again is a no-op.
    let res = s.prune(10).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("0"));
    assert_eq!(attr(&res, "pruned_through").as_deref(), Some("2"));
}

#[test]
fn a_long_lived_payment_is_kept_until_its_last_servable_epoch_closes() {
    let mut s = Suite::new();
    // Served in epoch 1, but the payment stays valid until well into epoch 3.
    let mut spec = s.spec();
    spec.valid_before = s.clock.start(3) + 100;
    let r = s.receipt(&spec);
    s.submit(vec![r], vec![]).unwrap();

    // Epoch 1 closes; the payment could still be served (re-signed) in epochs 2 and 3.
    s.set_time(s.clock.start(2) + GRACE + 10);
    let res = s.prune(10).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("0"));
    let st = s.status(&spec.payer.address(), &spec.nonce);
    assert!(st.consumed);
    assert_eq!(st.epoch, Some(1));

    // The node re-signs the same payment with a served_at in open epoch 2: still a replay.
    let mut replay = spec.clone();
    replay.served_at = s.now() - 5;
    let r = s.receipt(&replay);
    let (data, _) = s.submit(vec![r], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["nonce_already_used"]);

    // Once epoch 3 is closed, the entry goes and any replay is `epoch_closed`.
    s.set_time(s.clock.end(3) + GRACE);
    let res = s.prune(10).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("1"));
    assert_eq!(attr(&res, "pruned_through").as_deref(), Some("4"));
    let mut replay = spec.clone();
    replay.served_at = s.clock.start(3) + 50;
    let r = s.receipt(&replay);
    let (data, _) = s.submit(vec![r], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["epoch_closed"]);
}

#[test]
fn prune_stops_at_the_first_open_epoch() {
    let mut s = Suite::new();
    let old = s.spec(); // epoch 1
    let r = s.receipt(&old);
    s.submit(vec![r], vec![]).unwrap();
    // Epoch 3: epoch 1 closed, epoch 3 open.
    s.set_time(s.clock.start(3) + 100);
    let new = s.spec();
    let r = s.receipt(&new);
    s.submit(vec![r], vec![]).unwrap();

    let res = s.prune(1000).unwrap();
    assert_eq!(attr(&res, "removed").as_deref(), Some("1"));
    // Epoch 2 ended at start(3) but is in grace until start(3) + GRACE: the first open epoch.
    assert_eq!(attr(&res, "pruned_through").as_deref(), Some("2"));
    assert!(!s.status(&old.payer.address(), &old.nonce).consumed);
    let st = s.status(&new.payer.address(), &new.nonce);
    assert!(st.consumed);
    assert_eq!(st.epoch, Some(3));
    // After pruning, new receipts are still recorded and found.
    let newer = s.spec();
    let r = s.receipt(&newer);
    let (data, _) = s.submit(vec![r], vec![]).unwrap();
    assert_eq!(data.accepted, 1);
    assert!(s.status(&newer.payer.address(), &newer.nonce).consumed);
}
