//! Rate-limit windows: counted atomically, per key, restarting when the window ends.

use std::sync::Arc;

use fund_server::store::Storage;

const WINDOW_MS: i64 = 60_000;

pub async fn attempts_count_per_key_within_a_window<S: Storage>(store: S) {
    let (a, b) = ([1_u8; 32], [2_u8; 32]);
    let count = |key: [u8; 32], now_ms: i64| {
        let store = store.clone();
        async move { store.count_attempt(&key, now_ms, WINDOW_MS, None).await.unwrap() }
    };
    assert_eq!(store.attempts_in_window(&a, 1_000, WINDOW_MS).await.unwrap(), 0, "never seen");
    assert_eq!(count(a, 1_000).await, 1);
    assert_eq!(count(a, 30_000).await, 2);
    assert_eq!(count(b, 30_000).await, 1, "another key has its own window");
    // A request that read the clock first but reached the row second counts in the window
    // that began after its reading: concurrency never opens a new window early.
    assert_eq!(count(b, 29_990).await, 2);
    assert_eq!(store.attempts_in_window(&a, 60_999, WINDOW_MS).await.unwrap(), 2);
    // The window began at 1,000: at 61,000 it has ended, reading sees none and the next
    // attempt starts a new window, whatever the old one held.
    assert_eq!(store.attempts_in_window(&a, 61_000, WINDOW_MS).await.unwrap(), 0);
    assert_eq!(count(a, 61_000).await, 1);
    assert_eq!(count(a, 61_001).await, 2);
    // A clock set back more than a window does not shut the key out until then.
    assert_eq!(count(a, 500).await, 1);
    assert_eq!(store.attempts_in_window(&a, 400, WINDOW_MS).await.unwrap(), 1);
    assert_eq!(store.attempts_in_window(&a, 60_500, WINDOW_MS).await.unwrap(), 0);
}

pub async fn ended_windows_are_purged<S: Storage>(store: S) {
    let (old, fresh) = ([3_u8; 32], [4_u8; 32]);
    for _ in 0..3 {
        store.count_attempt(&old, 1_000, WINDOW_MS, None).await.unwrap();
    }
    store.count_attempt(&fresh, 100_000, WINDOW_MS, None).await.unwrap();
    // Purging forgets windows that began before the given time, and only those.
    store.count_attempt(&fresh, 100_001, WINDOW_MS, Some(50_000)).await.unwrap();
    assert_eq!(store.attempts_in_window(&fresh, 100_002, WINDOW_MS).await.unwrap(), 2);
    // A purged window counts from one again even inside what would have been its window.
    assert_eq!(store.count_attempt(&old, 2_000, WINDOW_MS, None).await.unwrap(), 1);
}

pub async fn parallel_attempts_are_all_counted<S: Storage>(store: S) {
    let store = Arc::new(store);
    let key = [5_u8; 32];
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { store.count_attempt(&key, 1_000, WINDOW_MS, None).await.unwrap() },
            )
        })
        .collect();
    let mut seen = Vec::new();
    for attempt in attempts {
        seen.push(attempt.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=40).collect::<Vec<u64>>(), "each attempt saw its own count");
}
