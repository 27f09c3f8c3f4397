//! Argon2id hashing on a bounded pool of blocking threads, so a burst of sign-ins cannot
//! starve the threads that serve everything else.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier, Version};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
}

impl PasswordHasher {
    /// `parallel` hashes at most at once; SECURITY.md's floor is m = 19 MiB, t = 2, p = 1.
    pub fn new(parallel: usize) -> PasswordHasher {
        PasswordHasher {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            params: Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A permit to hash, held by the blocking task itself: a request that gives up while its
    /// hash runs (the client left, the deadline passed) cannot let another hash start beside
    /// it, so at most `parallel` of the 19 MiB buffers exist at once. Requests waiting for a
    /// permit hold only their password.
    async fn permit(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .expect("hasher semaphore is never closed")
    }

    pub async fn hash(&self, password: &str) -> String {
        let permit = self.permit().await;
        let argon2 = self.argon2();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.as_bytes(), &salt)
                .expect("argon2 hashing with valid parameters")
                .to_string()
        })
        .await
        .expect("hashing task")
    }

    /// Checks a password; with no stored hash it still does the work, so that an unknown
    /// account takes as long as a known one.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let permit = self.permit().await;
        let argon2 = self.argon2();
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match stored.as_deref().map(PasswordHash::new) {
                Some(Ok(parsed)) => argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
                _ => {
                    let salt = SaltString::generate(&mut OsRng);
                    let _ = argon2.hash_password(password.as_bytes(), &salt);
                    false
                }
            }
        })
        .await
        .expect("verifying task")
    }
}
