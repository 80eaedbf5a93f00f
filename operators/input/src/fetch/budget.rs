//! The temp-disk budget of downloads (`fetch.max_inflight_bytes`): finished downloads are charged to it until the
//! pipeline is done with them (the last clone of their `Fetched` is dropped), and a new download waits while the
//! charges reach the budget.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Bytes of finished downloads still held, against a limit; shared by every download of a process.
#[derive(Debug)]
pub(crate) struct ByteBudget {
    max: u64,
    used: Mutex<u64>,
    freed: Notify,
}

/// One download's bytes, given back to its budget on drop.
#[derive(Debug)]
pub struct Charge {
    budget: Arc<ByteBudget>,
    bytes: u64,
}

impl ByteBudget {
    pub(crate) fn new(max: u64) -> Arc<Self> {
        Arc::new(Self { max, used: Mutex::new(0), freed: Notify::new() })
    }

    fn used(&self) -> u64 {
        *self.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns once the bytes held are under the budget (at once if they are).
    pub(crate) async fn wait_for_room(&self) {
        loop {
            // Created before the check, so a charge dropped between the check and the wait still wakes it.
            let freed = self.freed.notified();
            if self.used() < self.max {
                return;
            }
            freed.await;
        }
    }

    /// Charges `bytes` until the returned `Charge` is dropped.
    pub(crate) fn charge(self: &Arc<Self>, bytes: u64) -> Charge {
        *self.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += bytes;
        Charge { budget: self.clone(), bytes }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *used = used.saturating_sub(self.bytes);
        drop(used);
        self.budget.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_download_waits_until_held_bytes_are_given_back() {
        let budget = ByteBudget::new(100);
        budget.wait_for_room().await;
        let held = budget.charge(60);
        let second = budget.charge(50);
        assert_eq!(budget.used(), 110);
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.wait_for_room()).await;
        assert!(waiting.is_err(), "over the budget: a new download waits");
        let waiter = tokio::spawn({
            let budget = budget.clone();
            async move { budget.wait_for_room().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken").expect("task");
        assert_eq!(budget.used(), 50);
        drop(second);
        assert_eq!(budget.used(), 0);
    }
}
