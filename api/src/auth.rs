//! Bearer API keys for write endpoints and the per-key rate limit.
//!
//! A key reads `gaib_<id>_<secret>` (id: 16 hex digits, secret: 64 hex digits, both random).
//! The database stores the id, a name and the SHA-256 of the secret — never the key; the
//! check compares hashes in constant time. [`create_key`] prints nothing: `gaib keys create`
//! prints the key once.
//!
//! Every key has a [`Role`]: `reader` (reads only: its key is valid but every write is 403),
//! `writer` (stores portfolios, runs jobs, publishes to the assets registered to it) and
//! `admin` (a writer that also registers assets to owners and releases held valuations).

use crate::db::{Db, DbError};
use crate::problem::Problem;
use axum::http::StatusCode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use subtle::ConstantTimeEq;

/// Errors creating a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The name is empty or too long.
    #[error("invalid name {0:?}: 1 to 64 characters, no control characters")]
    Name(String),
    /// The role is not one of `admin`, `writer`, `reader`.
    #[error("invalid role {0:?}: admin, writer or reader")]
    Role(String),
    /// The OS random source failed.
    #[error("random source: {0}")]
    Random(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_hex(n: usize) -> Result<String, KeyError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(hex(&b))
}

/// A random id of `n` bytes as hex (job ids).
pub fn random_id(n: usize) -> Result<String, KeyError> {
    random_hex(n)
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Registers assets, releases held valuations, and everything a writer does.
    Admin,
    /// Stores portfolios and runs jobs; publishes to the assets registered to it.
    Writer,
    /// Reads only.
    Reader,
}

impl Role {
    /// Its name (`admin`, `writer`, `reader`), as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Writer => "writer",
            Role::Reader => "reader",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s {
            "admin" => Ok(Role::Admin),
            "writer" => Ok(Role::Writer),
            "reader" => Ok(Role::Reader),
            other => Err(KeyError::Role(other.to_string())),
        }
    }
}

/// Creates a `writer` key named `name` (see [`create_key_with_role`]).
pub fn create_key(db: &Db, name: &str) -> Result<String, KeyError> {
    create_key_with_role(db, name, Role::Writer)
}

/// Creates a key named `name` with `role`, stores its hash, and returns the key (the only
/// time it exists outside the caller).
pub fn create_key_with_role(db: &Db, name: &str, role: Role) -> Result<String, KeyError> {
    if name.trim().is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(KeyError::Name(name.to_string()));
    }
    let id = random_hex(8)?;
    let secret = random_hex(32)?;
    db.insert_key(
        &id,
        name,
        &gaib_runs::sha256_hex(secret.as_bytes()),
        role.as_str(),
    )?;
    Ok(format!("gaib_{id}_{secret}"))
}

/// A verified key: its id, name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyId {
    /// The key's public id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// Checks that a verified key has one of the `allowed` roles (403 naming its role if not).
pub fn require(key: KeyId, allowed: &[Role]) -> Result<KeyId, Problem> {
    if allowed.contains(&key.role) {
        return Ok(key);
    }
    let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
    Err(Problem::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "key {} has role {}; this endpoint needs {}",
            key.id,
            key.role.as_str(),
            names.join(" or ")
        ),
    ))
}

fn unauthorized(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
}

/// Checks an `Authorization` header value against the stored keys.
pub fn verify(db: &Db, header: Option<&str>) -> Result<KeyId, Problem> {
    let Some(h) = header else {
        return Err(unauthorized(
            "this endpoint needs an API key: Authorization: Bearer gaib_… (gaib keys create)",
        ));
    };
    let token = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("the Authorization header is not `Bearer <key>`"))?;
    let mut parts = token.splitn(3, '_');
    let (Some("gaib"), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(unauthorized("malformed API key"));
    };
    let stored = db.key(id).map_err(Problem::from)?;
    // Hash even for an unknown id, so both paths cost the same.
    let presented = gaib_runs::sha256_hex(secret.as_bytes());
    let expected = stored
        .as_ref()
        .map_or_else(|| "0".repeat(64), |k| k.hash.clone());
    let equal: bool = presented.as_bytes().ct_eq(expected.as_bytes()).into();
    match stored {
        Some(k) if equal => Ok(KeyId {
            id: id.to_string(),
            role: k.role.parse().map_err(Problem::internal)?,
            name: k.name,
        }),
        _ => Err(unauthorized("unknown or revoked API key")),
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per key: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter of `per_minute` requests per minute with bursts of `burst`.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; on refusal the seconds until one is available.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut m = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = m.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let dt = now.duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + dt * self.per_second).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refuses_beyond_the_burst_and_says_when_to_retry() {
        let r = RateLimiter::new(60, 3);
        for _ in 0..3 {
            assert!(r.check("k").is_ok());
        }
        let wait = r.check("k").unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        assert!(r.check("other").is_ok());
    }
}
