//! Argon2id hashing on a few threads of its own, so a burst of sign-ins cannot starve the
//! threads that serve everything else, and its memory stays flat. Each hash needs a 19 MiB
//! buffer; allocated and freed per hash, such buffers made the allocator raise its threshold
//! for returning memory and keep freed ones in every thread's arena (780 MiB after 15 s of a
//! 200-connection sign-in storm on tokio's blocking pool). Here each of the `parallel` threads
//! allocates its buffer once and reuses it for every hash.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Work for a hashing thread, given that thread's memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
    jobs: Sender<Job>,
}

impl PasswordHasher {
    /// `parallel` hashes at most at once, each on its own thread; SECURITY.md's floor is
    /// m = 19 MiB, t = 2, p = 1. The threads end when the last clone is dropped.
    pub fn new(parallel: usize) -> PasswordHasher {
        let parallel = parallel.max(1);
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..parallel {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || work(&queue))
                .expect("a password hashing thread");
        }
        PasswordHasher {
            permits: Arc::new(Semaphore::new(parallel)),
            params: Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
            jobs,
        }
    }

    /// Runs `f` on a hashing thread, holding one of the `parallel` permits until it is done,
    /// and waits for its answer. A request that gives up while its hash runs (the client
    /// left, the deadline passed) cannot let another hash start beside it, and requests
    /// waiting for a permit hold only their password.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> T {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("hasher semaphore is never closed");
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _permit = permit;
            let _ = answer.send(f(memory));
        });
        self.jobs
            .send(job)
            .expect("password hashing threads are running");
        answered.await.expect("a password hashing thread answers")
    }

    pub async fn hash(&self, password: &str) -> String {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run(move |memory| {
            fresh(memory, params, &password).expect("argon2 hashing with valid parameters")
        })
        .await
    }

    /// Checks a password; with no stored hash it still does the work, so that an unknown
    /// account takes as long as a known one.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let params = self.params.clone();
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        self.run(
            move |memory| match stored.as_deref().map(PasswordHash::new) {
                Some(Ok(parsed)) => matches(memory, &parsed, &password).unwrap_or(false),
                _ => {
                    let _ = fresh(memory, params, &password);
                    false
                }
            },
        )
        .await
    }
}

/// A new hash of `password` with our parameters and a random salt, in PHC form.
fn fresh(memory: &mut Vec<Block>, params: Params, password: &str) -> password_hash::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    Ok(digest(memory, algorithm, version, params, password, salt.as_salt())?.to_string())
}

/// Whether `password` gives the stored hash, with the stored hash's own parameters.
fn matches(
    memory: &mut Vec<Block>,
    stored: &PasswordHash<'_>,
    password: &str,
) -> password_hash::Result<bool> {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(stored.algorithm)?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(stored)?;
    let computed = digest(memory, algorithm, version, params, password, salt)?;
    // `Output` compares in constant time.
    Ok(computed.hash == Some(expected))
}

/// The hash of `password` in the thread's `memory`, grown once if the parameters need more.
fn digest<'a>(
    memory: &mut Vec<Block>,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &str,
    salt: Salt<'a>,
) -> password_hash::Result<PasswordHash<'a>> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output = Output::init_with(len, |out| {
        Ok(argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            out,
            &mut memory[..blocks],
        )?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// A hashing thread: takes jobs one at a time, all in the same memory, until every sender is
/// gone.
fn work(queue: &Mutex<Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        match job {
            // A job that panics drops its answer (its request fails) but keeps the thread.
            Ok(job) => {
                let run = std::panic::AssertUnwindSafe(|| job(&mut memory));
                let _ = std::panic::catch_unwind(run);
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};

    use super::PasswordHasher;

    #[tokio::test]
    async fn hashes_check_against_the_argon2_crate_both_ways() {
        let hasher = PasswordHasher::new(2);
        let ours = hasher.hash("a long enough passphrase").await;
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"a long enough passphrase", &parsed)
                .is_ok()
        );
        assert!(hasher.verify("a long enough passphrase", Some(&ours)).await);
        assert!(!hasher.verify("a long enough passphrasE", Some(&ours)).await);

        // A hash made elsewhere, with other parameters, checks too.
        let params = Params::new(8 * 1024, 3, 1, Some(24)).unwrap();
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(
                b"another passphrase",
                &SaltString::from_b64("c2FsdHNhbHRzYWx0").unwrap(),
            )
            .unwrap()
            .to_string();
        assert!(hasher.verify("another passphrase", Some(&other)).await);
        assert!(!hasher.verify("another passphrase!", Some(&other)).await);
        for bad in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$md5$x$y",
        ] {
            assert!(
                !hasher.verify("another passphrase", Some(bad)).await,
                "{bad}"
            );
        }
        assert!(!hasher.verify("anything", None).await);
    }
}
