//! A short-lived cache of the accounts behind verified tokens, so that an API
//! request does not read its caller's account from the database every time.
//!
//! How fresh it stays:
//! - a change made through this engine (role, disabled, name, password) drops the
//!   cache at once, so in one process disabling an account takes effect on the
//!   very next request, as before;
//! - a change made by another process sharing the database (a second server, the
//!   CLI) is seen after at most [`IDENTITY_TTL`];
//! - only enabled accounts are cached: a gone or disabled account is read again
//!   on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::users::User;

/// Longest an account is served from the cache after it was read.
pub const IDENTITY_TTL: Duration = Duration::from_secs(2);

/// Entries kept at most; past that, expired ones are dropped, then all.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every invalidation: a read that started before it must not be
    /// stored (it may have seen the account as it was before the change).
    generation: u64,
    entries: HashMap<Uuid, (User, Instant)>,
}

/// Accounts by id, each for at most [`IDENTITY_TTL`].
#[derive(Debug, Default)]
pub(crate) struct IdentityCache {
    inner: Mutex<Inner>,
}

impl IdentityCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached account, if read less than [`IDENTITY_TTL`] ago; otherwise the
    /// generation to hand to [`IdentityCache::put`] after reading it.
    pub(crate) fn get(&self, id: Uuid) -> Result<User, u64> {
        let inner = self.lock();
        match inner.entries.get(&id) {
            Some((user, at)) if at.elapsed() < IDENTITY_TTL => Ok(user.clone()),
            _ => Err(inner.generation),
        }
    }

    /// Stores `user`, read from the database after `generation` was handed out,
    /// unless the cache was invalidated in between.
    pub(crate) fn put(&self, generation: u64, user: &User) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner
                .entries
                .retain(|_, (_, at)| at.elapsed() < IDENTITY_TTL);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        inner
            .entries
            .insert(user.id, (user.clone(), Instant::now()));
    }

    /// Forgets every account: called after any change to one.
    pub(crate) fn invalidate(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Utc;

    use super::*;
    use crate::users::Role;

    fn user() -> User {
        User {
            id: Uuid::now_v7(),
            email: "a@b.io".into(),
            name: "a".into(),
            role: Role::Viewer,
            disabled: false,
            password_is_default: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            token_version: 0,
        }
    }

    #[test]
    fn serves_what_was_put_until_invalidated() {
        let cache = IdentityCache::default();
        let u = user();
        let generation = cache.get(u.id).unwrap_err();
        cache.put(generation, &u);
        assert_eq!(cache.get(u.id).unwrap().id, u.id);
        cache.invalidate();
        assert!(cache.get(u.id).is_err());
    }

    #[test]
    fn a_read_overtaken_by_an_invalidation_is_not_stored() {
        let cache = IdentityCache::default();
        let u = user();
        let generation = cache.get(u.id).unwrap_err();
        // The account changes while the (now stale) read is under way.
        cache.invalidate();
        cache.put(generation, &u);
        assert!(cache.get(u.id).is_err());
    }
}
