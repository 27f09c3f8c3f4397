//! The data of busy pages, kept per person and page under the versions it was read at.
//!
//! The query that checks a session also returns the versions of what pages show: the
//! client's version, bumped by every write to the client's records, and the firm's data and
//! shared versions (see migration 0016: database triggers bump them inside each write's own
//! transaction, so no write path can forget). A page's data is used again only while those
//! versions are exactly the ones it was read at; otherwise it is read afresh. Versions are read
//! before the data, so kept data is never older than its versions say, and since every server
//! reads the versions from the shared database on every request, a change made through any
//! server shows on the next page load everywhere, with no signal to miss.
//!
//! Entries are per viewer (person, membership, client and firm all in the key), one per page
//! and viewer, and the least recently used are dropped beyond a fixed number, so memory stays
//! bounded however many people sign in.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex};

use hashlink::LruCache;
use portico_core::Viewer;

/// How many pages' data one server keeps at most: dashboards and home pages (about 2–4 KiB
/// each), and pages of the client list (up to about 15 KiB each).
pub(crate) const PAGES: usize = 8192;
pub(crate) const LISTS: usize = 1024;

/// The pages whose data is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Kept {
    ClientDashboard,
    StaffHome,
    /// One page of the firm's client list, for a search (empty for all).
    ClientList {
        search: String,
        page: u32,
    },
}

/// The versions a page's data was read at.
pub(crate) type Versions = [i64; 3];

type Entry = (Versions, Arc<dyn Any + Send + Sync>);

pub(crate) struct PageCache {
    entries: Mutex<LruCache<(Kept, Viewer), Entry>>,
}

impl PageCache {
    /// A cache of at most `capacity` pages.
    pub(crate) fn new(capacity: usize) -> PageCache {
        PageCache {
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The data of `page` for `viewer` at `versions`: kept, or loaded now and kept.
    pub(crate) async fn get_or_load<T, E, F, Fut>(
        &self,
        page: Kept,
        viewer: &Viewer,
        versions: Versions,
        load: F,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let key = (page, viewer.clone());
        if let Some((at, data)) = self.lock().get(&key)
            && *at == versions
            && let Ok(data) = Arc::clone(data).downcast::<T>()
        {
            return Ok(data);
        }
        let data = Arc::new(load().await?);
        self.lock().insert(
            key,
            (versions, Arc::clone(&data) as Arc<dyn Any + Send + Sync>),
        );
        Ok(data)
    }

    /// How many pages are kept now.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<(Kept, Viewer), Entry>> {
        // A panic while holding the lock leaves nothing half-written: entries are replaced whole.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn client(n: u128) -> Viewer {
        Viewer::Client {
            user_id: Uuid::from_u128(n),
            firm_id: Uuid::from_u128(1),
            client_id: Uuid::from_u128(100 + n),
            client_user_id: Uuid::from_u128(200 + n),
            is_client_admin: false,
        }
    }

    async fn load(cache: &PageCache, v: &Viewer, at: Versions, value: u32) -> u32 {
        *cache
            .get_or_load(Kept::ClientDashboard, v, at, || async {
                Ok::<_, ()>(value)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn kept_data_serves_only_its_viewer_at_its_versions() {
        let cache = PageCache::new(PAGES);
        let (a, b) = (client(1), client(2));
        assert_eq!(load(&cache, &a, [1, 0, 0], 10).await, 10);
        // Same viewer, same versions: the kept data, not the new load.
        assert_eq!(load(&cache, &a, [1, 0, 0], 11).await, 10);
        // Another viewer never sees it.
        assert_eq!(load(&cache, &b, [1, 0, 0], 20).await, 20);
        // Any version changed: loaded again, and the old entry replaced.
        assert_eq!(load(&cache, &a, [2, 0, 0], 12).await, 12);
        assert_eq!(load(&cache, &a, [2, 0, 1], 13).await, 13);
        assert_eq!(cache.len(), 2);
    }

    #[tokio::test]
    async fn memory_is_bounded_by_the_capacity() {
        let cache = PageCache::new(PAGES);
        for n in 0..(PAGES as u128 + 500) {
            load(&cache, &client(n), [0, 0, 0], 1).await;
        }
        assert_eq!(cache.len(), PAGES);
    }

    #[tokio::test]
    async fn a_failed_load_keeps_nothing() {
        let cache = PageCache::new(PAGES);
        let r = cache
            .get_or_load(Kept::StaffHome, &client(1), [0, 0, 0], || async {
                Err::<u32, _>("down")
            })
            .await;
        assert!(r.is_err());
        assert_eq!(cache.len(), 0);
    }
}
