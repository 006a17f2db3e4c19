//! The database's life cycle: migrations, health, checkpoints.

use fund_server::store::Storage;

use crate::support::{apply, fund, merchant};

pub async fn migrating_again_changes_nothing<S: Storage>(store: S) {
    let shop = merchant("Shop");
    store.add_merchant(&shop, 1_000).await.unwrap();
    apply(&store, &[fund("fund/1", 10_000)]).await;
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    store.checkpoint().await.unwrap();
    assert_eq!(store.merchant(shop.id).await.unwrap(), Some(shop));
    assert_eq!(store.entry_counts().await.unwrap().get("fund"), Some(&1));
}
