//! Credentials at rest: AES-256-GCM with a random 96-bit nonce per value, bound to
//! where the value belongs (associated data), so a sealed password cannot be moved
//! to another record. Also the server's signing key and the development-mode
//! secrets file.

use std::path::Path;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::config::Settings;
use crate::error::{Error, Result};

const SEALED_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Seals and opens secrets with one AES-256-GCM key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key redacted>)")
    }
}

impl SecretBox {
    /// A box for the base64 encoding of a 32-byte key (`ONCALL_ENCRYPTION_KEY`).
    pub fn from_base64(key: &str) -> Result<Self> {
        let bytes = B64
            .decode(key.trim())
            .map_err(|_| Error::Config("ONCALL_ENCRYPTION_KEY is not valid base64".into()))?;
        if bytes.len() != 32 {
            return Err(Error::Config(format!(
                "ONCALL_ENCRYPTION_KEY must decode to 32 bytes, not {}",
                bytes.len()
            )));
        }
        let cipher = Aes256Gcm::new_from_slice(&bytes)
            .map_err(|_| Error::Config("ONCALL_ENCRYPTION_KEY has the wrong length".into()))?;
        Ok(SecretBox { cipher })
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> String {
        let key = Key::<Aes256Gcm>::generate();
        B64.encode(key.as_slice())
    }

    /// Encrypts `plain` for the record named by `context` (e.g. `datasource:<id>:password`).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String> {
        let nonce = Nonce::generate();
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(&nonce, payload)
            .map_err(|_| Error::Internal("encrypting a credential failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", B64.encode(out)))
    }

    /// Decrypts what [`SecretBox::seal`] made for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String> {
        let undecryptable = || {
            Error::Unavailable(
                "a stored credential cannot be decrypted (was ONCALL_ENCRYPTION_KEY changed?); \
                 enter it again"
                    .into(),
            )
        };
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or_else(undecryptable)?;
        let bytes = B64.decode(body).map_err(|_| undecryptable())?;
        if bytes.len() < NONCE_LEN {
            return Err(undecryptable());
        }
        let (nonce, msg) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| undecryptable())?;
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| undecryptable())?;
        String::from_utf8(plain).map_err(|_| undecryptable())
    }
}

/// Random bytes, base64-encoded (for signing keys).
pub fn random_base64(len: usize) -> String {
    let mut bytes = Vec::with_capacity(len + 16);
    while bytes.len() < len {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    bytes.truncate(len);
    B64.encode(bytes)
}

/// Signing keys that must never be used, even if someone copies them from docs.
const KNOWN_WEAK_SECRETS: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "your-secret-key",
    "your-secret-key-here",
    "jwt-secret",
];

/// What [`resolve_secrets`] decided, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Given in the settings.
    Configured,
    /// Generated for development mode and kept in the named file.
    DevelopmentFile(String),
}

/// Makes sure `settings` has a JWT signing key and an encryption key.
///
/// Outside development mode both must be configured (and the JWT key must not be
/// empty, short or a well-known default). In development mode missing ones are
/// generated once and kept in `dev_file` (mode 0600) so that tokens and stored
/// credentials survive restarts.
///
/// Outside development mode it also sets [`Settings::admin_password_required`]:
/// a server does not create its first admin with the built-in default password.
pub fn resolve_secrets(settings: &mut Settings, dev_file: &Path) -> Result<SecretSource> {
    settings.admin_password_required = !settings.dev;
    let jwt_ok = settings.jwt_secret_key.as_deref().is_some_and(|k| {
        k.len() >= 16 && !KNOWN_WEAK_SECRETS.contains(&k.to_ascii_lowercase().as_str())
    });
    if jwt_ok && settings.encryption_key.is_some() {
        if let Some(key) = &settings.encryption_key {
            SecretBox::from_base64(key)?;
        }
        return Ok(SecretSource::Configured);
    }
    if !settings.dev {
        let mut missing = Vec::new();
        if !jwt_ok {
            missing.push("JWT_SECRET_KEY (at least 16 characters, not a well-known default)");
        }
        if settings.encryption_key.is_none() {
            missing.push("ONCALL_ENCRYPTION_KEY (base64 of 32 bytes: `openssl rand -base64 32`)");
        }
        return Err(Error::Config(format!(
            "refusing to start without {}; or start in development mode (--dev or ONCALL_DEV=1), \
             which generates them",
            missing.join(" and ")
        )));
    }
    let mut stored: serde_json::Map<String, serde_json::Value> = match std::fs::read(dev_file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Config(format!("{} is not valid JSON: {e}", dev_file.display())))?,
        Err(_) => serde_json::Map::new(),
    };
    let mut take = |name: &str, make: fn() -> String| -> String {
        match stored.get(name).and_then(|v| v.as_str()) {
            Some(v) => v.to_owned(),
            None => {
                let v = make();
                stored.insert(name.to_owned(), v.clone().into());
                v
            }
        }
    };
    if !jwt_ok {
        settings.jwt_secret_key = Some(take("jwt_secret_key", || random_base64(48)));
    }
    if settings.encryption_key.is_none() {
        settings.encryption_key = Some(take("encryption_key", SecretBox::generate_key));
    }
    write_private(dev_file, &serde_json::Value::Object(stored).to_string())?;
    if let Some(key) = &settings.encryption_key {
        SecretBox::from_base64(key)?;
    }
    Ok(SecretSource::DevelopmentFile(
        dev_file.display().to_string(),
    ))
}

fn write_private(path: &Path, content: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(path)
        .and_then(|mut f| {
            // `mode` applies only when the file is created: tighten an older one too.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(content.as_bytes())
        })
        .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_bind_the_context() {
        let b = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        let sealed = b.seal("p@ss 密码", "datasource:1:password").unwrap();
        assert!(sealed.starts_with("v1:") && !sealed.contains("p@ss"));
        assert_ne!(
            sealed,
            b.seal("p@ss 密码", "datasource:1:password").unwrap(),
            "fresh nonce"
        );
        assert_eq!(
            b.open(&sealed, "datasource:1:password").unwrap(),
            "p@ss 密码"
        );
        assert!(
            b.open(&sealed, "datasource:2:password").is_err(),
            "moved to another record"
        );
        let other = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        assert_eq!(
            other
                .open(&sealed, "datasource:1:password")
                .unwrap_err()
                .code(),
            crate::ErrorCode::Unavailable
        );
        assert!(b.open("garbage", "x").is_err());
        assert!(b.open("v1:AAAA", "x").is_err());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SecretBox::from_base64("not base64!").is_err());
        assert!(SecretBox::from_base64(&B64.encode([0u8; 16])).is_err());
        assert!(SecretBox::from_base64(&B64.encode([7u8; 32])).is_ok());
    }

    #[test]
    fn production_refuses_missing_or_weak_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dev-secrets.json");
        let mut s = Settings::default();
        let e = resolve_secrets(&mut s, &file).unwrap_err();
        assert!(
            e.to_string().contains("JWT_SECRET_KEY")
                && e.to_string().contains("ONCALL_ENCRYPTION_KEY")
        );
        s.jwt_secret_key = Some("changeme".into());
        s.encryption_key = Some(SecretBox::generate_key());
        assert!(
            resolve_secrets(&mut s, &file).is_err(),
            "well-known default refused"
        );
        s.jwt_secret_key = Some(random_base64(32));
        assert_eq!(
            resolve_secrets(&mut s, &file).unwrap(),
            SecretSource::Configured
        );
        assert!(!file.exists());
    }

    #[test]
    fn development_mode_generates_once_and_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/dev-secrets.json");
        let mut a = Settings {
            dev: true,
            ..Settings::default()
        };
        assert!(matches!(
            resolve_secrets(&mut a, &file).unwrap(),
            SecretSource::DevelopmentFile(_)
        ));
        let mut b = Settings {
            dev: true,
            ..Settings::default()
        };
        resolve_secrets(&mut b, &file).unwrap();
        assert_eq!(a.jwt_secret_key, b.jwt_secret_key);
        assert_eq!(a.encryption_key, b.encryption_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            // A file made readable by others (by hand, an older version) is
            // tightened when written again.
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            write_private(&file, "{}").unwrap();
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
