//! The login throttle's rules: every attempt for one (account, client address)
//! pair is charged before the password is checked; past [`FREE_ATTEMPTS`] each
//! further attempt must wait twice as long as the one before, up to
//! [`MAX_DELAY`]. There is no hard lock: a wrong guess from one address never
//! locks the account for anyone else, and the rightful owner elsewhere is not
//! slowed at all. The state lives in the database ([`crate::store::ThrottleStore`]),
//! so every process sharing it agrees.

use std::time::Duration;

use sha2::{Digest, Sha256};

/// Attempts allowed without any wait.
pub const FREE_ATTEMPTS: i64 = 5;
/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Rows untouched for this long are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// How long the next attempt must wait after `attempts` charged ones: nothing for
/// the first [`FREE_ATTEMPTS`], then 1 s, 2 s, 4 s, ... at most [`MAX_DELAY`].
pub fn delay_after(attempts: i64) -> Duration {
    if attempts < FREE_ATTEMPTS {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(attempts - FREE_ATTEMPTS)
        .unwrap_or(u32::MAX)
        .min(20);
    Duration::from_secs(1u64 << doublings).min(MAX_DELAY)
}

/// The stored key of an (account, client) pair: a SHA-256, so the table holds
/// neither emails nor addresses. The email is compared as typed, trimmed and
/// lower-cased (an unknown or malformed one is throttled the same way).
pub fn key(email: &str, client: &str) -> String {
    let mut h = Sha256::new();
    h.update(email.trim().to_lowercase().as_bytes());
    h.update([0]);
    h.update(client.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_after_the_free_attempts_and_stop_growing() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(FREE_ATTEMPTS - 1), Duration::ZERO);
        assert_eq!(delay_after(FREE_ATTEMPTS), Duration::from_secs(1));
        assert_eq!(delay_after(FREE_ATTEMPTS + 3), Duration::from_secs(8));
        assert_eq!(delay_after(FREE_ATTEMPTS + 50), MAX_DELAY);
    }

    #[test]
    fn keys_separate_accounts_and_clients() {
        let k = key(" Admin@X.io ", "10.0.0.1");
        assert_eq!(k, key("admin@x.io", "10.0.0.1"));
        assert_ne!(k, key("admin@x.io", "10.0.0.2"));
        assert_ne!(k, key("other@x.io", "10.0.0.1"));
        assert_eq!(k.len(), 64);
        assert!(!k.contains("admin"));
    }
}
