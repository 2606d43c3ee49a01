//! The embedded chain persisted under `--home`: reopening the same home finds the same chain
//! (deployment, height, consumed nonces, pool state), and the keeper's store finds its receipts.
mod common;

use std::sync::Arc;

use common::*;
use opg_keeper::chain::embedded::{ClockMode, EmbeddedChain};
use opg_keeper::chain::ChainBackend;
use opg_keeper::config::KeeperConfig;
use opg_keeper::service::Keeper;
use opg_keeper::store::{Durability, ReceiptKey, ReceiptState, Store};

#[test]
fn reopening_home_resumes_the_same_chain() {
    let g = genesis();
    let home = tempfile::tempdir().unwrap();
    let cfg = KeeperConfig {
        genesis: Some(g.clone()),
        ..Default::default()
    };
    let (deployment, height, key, report);
    {
        let chain =
            Arc::new(EmbeddedChain::open_with_clock(home.path(), &g, ClockMode::Manual).unwrap());
        chain.set_time(T0 + 100).unwrap();
        let store = Store::open(&home.path().join("keeper.db"), Durability::Full).unwrap();
        let keeper =
            Keeper::new(cfg.clone(), store, chain.clone() as Arc<dyn ChainBackend>).unwrap();
        let res = keeper.ingest(epoch0_traffic(chain.as_ref(), &g)).unwrap();
        key = ReceiptKey::new(
            res[0].payer.as_ref().unwrap(),
            res[0].nonce.as_ref().unwrap(),
        );
        assert_eq!(keeper.submit_pending(T0 + 100).unwrap().accepted, 4);
        deployment = chain.deployment();
        height = chain.status().unwrap().height;
        report = chain.epoch_report(0).unwrap();
        assert_eq!(report.commercial.calls, 3);
    }
    // a new process: same home, same genesis
    let chain =
        Arc::new(EmbeddedChain::open_with_clock(home.path(), &g, ClockMode::Manual).unwrap());
    assert_eq!(chain.deployment(), deployment);
    let st = chain.status().unwrap();
    assert_eq!((st.height, st.time), (height, T0 + 100));
    assert_eq!(chain.epoch_report(0).unwrap(), report);
    assert!(
        chain
            .receipt_status(&key.payer, &key.nonce)
            .unwrap()
            .consumed
    );
    let store = Store::open(&home.path().join("keeper.db"), Durability::Full).unwrap();
    let keeper = Keeper::new(cfg, store, chain.clone() as Arc<dyn ChainBackend>).unwrap();
    assert!(matches!(
        keeper.store().get_receipt(&key).unwrap().unwrap().state,
        ReceiptState::Accepted { .. }
    ));
    // the chain keeps working: finalize after the grace period
    chain.set_time(T0 + 4200).unwrap();
    assert_eq!(keeper.finalize_ready(T0 + 4200).unwrap(), vec![0]);
    drop(keeper);
    drop(chain);

    // genesis is applied only once; another genesis on this home is refused
    let mut other = g.clone();
    other.pool_funding += cosmwasm_std::Uint128::new(1);
    let err = EmbeddedChain::open(home.path(), &other).err().unwrap();
    assert!(err.to_string().contains("different [genesis]"), "{err}");
    let chain = EmbeddedChain::open_with_clock(home.path(), &g, ClockMode::Manual).unwrap();
    assert_eq!(chain.pool_config().unwrap().next_to_finalize, 1);
}
