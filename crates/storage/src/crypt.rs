//! Encryption at rest: each file has its own random AES-256 key, kept in the database wrapped
//! (AES-256-GCM) by its firm's key, which is derived from the master key in configuration. The
//! file's bytes are sealed in chunks of [`CHUNK`] bytes, each with AES-256-GCM under a nonce
//! made from its position, and the last one marked as last in its associated data, so a chunk
//! cannot be moved, dropped or cut off unnoticed, and any byte range can be read by opening only
//! the chunks it touches. Sealing streams: it holds one chunk back to know which is last.

use std::ops::Range;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use futures_util::stream::{BoxStream, StreamExt};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Plaintext bytes per sealed chunk.
pub const CHUNK: u64 = 64 * 1024;
/// What sealing adds to each chunk (the GCM tag).
const TAG: u64 = 16;

/// The master key from configuration: 32 bytes, given as base64.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// Reads the key as configured; the error names what is wrong, never the key.
    pub fn parse(base64: &str) -> Result<MasterKey, String> {
        let raw = STANDARD
            .decode(base64.trim())
            .map_err(|_| "is not base64".to_string())?;
        let key: [u8; 32] = raw
            .try_into()
            .map_err(|_| "must be 32 bytes (44 base64 characters)".to_string())?;
        Ok(MasterKey(key))
    }

    /// A fingerprint that tells keys apart without revealing them (the key is 32 random
    /// bytes): backups record it, so a restore can refuse a different key.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"portico master-key fingerprint v1\0");
        h.update(self.0);
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key that wraps one firm's file keys.
    fn firm_key(&self, firm_id: &[u8; 16]) -> Aes256Gcm {
        let mut h = Sha256::new();
        h.update(b"portico firm file-key wrapping v1\0");
        h.update(self.0);
        h.update(firm_id);
        Aes256Gcm::new_from_slice(&h.finalize()).expect("32-byte key")
    }

    /// A new key for one file, and that key wrapped for storing beside the file's row.
    pub fn new_file_key(&self, firm_id: &[u8; 16], file_id: &[u8; 16]) -> (FileKey, String) {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .firm_key(firm_id)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &key,
                    aad: file_id,
                },
            )
            .expect("sealing a key");
        let mut wrapped = nonce.to_vec();
        wrapped.extend_from_slice(&sealed);
        (FileKey(key), STANDARD.encode(wrapped))
    }

    /// Opens a file's wrapped key; fails if it was not wrapped for this firm and file by this
    /// master key.
    pub fn file_key(
        &self,
        firm_id: &[u8; 16],
        file_id: &[u8; 16],
        wrapped: &str,
    ) -> Result<FileKey, String> {
        let raw = STANDARD
            .decode(wrapped)
            .map_err(|_| "the file's key is damaged".to_string())?;
        if raw.len() != 12 + 32 + TAG as usize {
            return Err("the file's key is damaged".into());
        }
        let key = self
            .firm_key(firm_id)
            .decrypt(
                &Nonce::from(<[u8; 12]>::try_from(&raw[..12]).expect("12 bytes")),
                Payload {
                    msg: &raw[12..],
                    aad: file_id,
                },
            )
            .map_err(|_| {
                "the file's key does not open with the configured master key".to_string()
            })?;
        Ok(FileKey(key.try_into().expect("32 bytes")))
    }
}

/// How a sealed secret starts, to tell it from one stored before a master key was configured.
const SEALED_SECRET: &str = "sealed1:";

impl MasterKey {
    fn secret_key(&self) -> Aes256Gcm {
        let mut h = Sha256::new();
        h.update(b"portico account secrets v1\0");
        h.update(self.0);
        Aes256Gcm::new_from_slice(&h.finalize()).expect("32-byte key")
    }

    /// Seals a person's secret (such as an authenticator app's) for storing with their account.
    pub fn seal_secret(&self, user_id: &[u8; 16], secret: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .secret_key()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: user_id,
                },
            )
            .expect("sealing a secret");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_SECRET}{}", STANDARD.encode(out))
    }
}

/// A person's stored secret in the clear: sealed ones are opened with the master key, and one
/// stored before a master key was configured is returned as it is.
pub fn open_secret(
    master: Option<&MasterKey>,
    user_id: &[u8; 16],
    stored: &str,
) -> Result<String, String> {
    let Some(sealed) = stored.strip_prefix(SEALED_SECRET) else {
        return Ok(stored.to_string());
    };
    let master =
        master.ok_or("a secret is encrypted but no storage.encryption_key is configured")?;
    let raw = STANDARD
        .decode(sealed)
        .map_err(|_| "a stored secret is damaged".to_string())?;
    if raw.len() < 12 + TAG as usize {
        return Err("a stored secret is damaged".into());
    }
    let plain = master
        .secret_key()
        .decrypt(
            &Nonce::from(<[u8; 12]>::try_from(&raw[..12]).expect("12 bytes")),
            Payload {
                msg: &raw[12..],
                aad: user_id,
            },
        )
        .map_err(|_| "a stored secret does not open with the configured master key".to_string())?;
    String::from_utf8(plain).map_err(|_| "a stored secret is damaged".to_string())
}

/// One file's key.
#[derive(Clone)]
pub struct FileKey([u8; 32]);

fn nonce(index: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&index.to_be_bytes());
    n
}

fn aad(index: u64, last: bool) -> [u8; 9] {
    let mut a = [0u8; 9];
    a[..8].copy_from_slice(&index.to_be_bytes());
    a[8] = u8::from(last);
    a
}

/// How many chunks a file of `size` bytes is sealed in (an empty file has one, empty).
fn chunks(size: u64) -> u64 {
    size.div_ceil(CHUNK).max(1)
}

/// How many bytes the sealed form of `size` plaintext bytes takes.
pub fn sealed_size(size: u64) -> u64 {
    size + chunks(size) * TAG
}

impl FileKey {
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&self.0).expect("32-byte key")
    }

    fn seal(cipher: &Aes256Gcm, index: u64, last: bool, plain: &[u8]) -> Bytes {
        Bytes::from(
            cipher
                .encrypt(
                    &Nonce::from(nonce(index)),
                    Payload {
                        msg: plain,
                        aad: &aad(index, last),
                    },
                )
                .expect("sealing a chunk"),
        )
    }

    fn open(cipher: &Aes256Gcm, index: u64, last: bool, sealed: &[u8]) -> std::io::Result<Vec<u8>> {
        cipher
            .decrypt(
                &Nonce::from(nonce(index)),
                Payload {
                    msg: sealed,
                    aad: &aad(index, last),
                },
            )
            .map_err(|_| {
                std::io::Error::other(
                    "a stored chunk does not decrypt: the file was altered or damaged",
                )
            })
    }

    /// The sealed bytes to read for plaintext `range` of a file of `size` bytes.
    pub fn sealed_range(range: &Range<u64>, size: u64) -> Range<u64> {
        let first = range.start / CHUNK;
        let last = range.end.saturating_sub(1) / CHUNK;
        let start = first * (CHUNK + TAG);
        let end = ((last + 1) * (CHUNK + TAG)).min(sealed_size(size));
        start..end
    }

    /// Opens a stream of sealed bytes that starts at the chunk holding `range.start`, yielding
    /// exactly the plaintext of `range`.
    pub fn open_stream(
        &self,
        sealed: BoxStream<'static, std::io::Result<Bytes>>,
        range: Range<u64>,
        size: u64,
    ) -> BoxStream<'static, std::io::Result<Bytes>> {
        let state = Opening {
            cipher: self.cipher(),
            sealed,
            pending: BytesMut::new(),
            index: range.start / CHUNK,
            skip: range.start % CHUNK,
            left: range.end.saturating_sub(range.start),
            size,
            failed: false,
        };
        futures_util::stream::unfold(state, |mut st| async move {
            if st.failed || st.left == 0 {
                return None;
            }
            match st.next_chunk().await {
                Ok(b) => Some((Ok(b), st)),
                Err(e) => {
                    st.failed = true;
                    Some((Err(e), st))
                }
            }
        })
        .boxed()
    }
}

impl FileKey {
    /// Seals a stream of plaintext as it passes.
    pub fn seal_stream<'a, S>(&self, plain: S) -> BoxStream<'a, std::io::Result<Bytes>>
    where
        S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'a,
    {
        let state = Sealing {
            cipher: self.cipher(),
            plain: plain.boxed(),
            buffer: BytesMut::new(),
            index: 0,
            done: false,
        };
        futures_util::stream::unfold(state, |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                // More than a chunk held: the first is certainly not the last.
                if st.buffer.len() as u64 > CHUNK {
                    let piece = st.buffer.split_to(CHUNK as usize);
                    let sealed = FileKey::seal(&st.cipher, st.index, false, &piece);
                    st.index += 1;
                    return Some((Ok(sealed), st));
                }
                match st.plain.next().await {
                    Some(Ok(b)) => st.buffer.extend_from_slice(&b),
                    Some(Err(e)) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                    None => {
                        st.done = true;
                        let piece = st.buffer.split();
                        let sealed = FileKey::seal(&st.cipher, st.index, true, &piece);
                        return Some((Ok(sealed), st));
                    }
                }
            }
        })
        .boxed()
    }
}

/// The key that opens a stored file: `None` when it is stored as it is (`wrapped` empty), an
/// error when it is sealed and no master key, or another one, is configured.
pub fn key_for(
    master: Option<&MasterKey>,
    firm_id: &[u8; 16],
    file_id: &[u8; 16],
    wrapped: &str,
) -> Result<Option<FileKey>, String> {
    if wrapped.is_empty() {
        return Ok(None);
    }
    let master =
        master.ok_or("the file is encrypted but no storage.encryption_key is configured")?;
    master.file_key(firm_id, file_id, wrapped).map(Some)
}

/// A stored file's bytes (or `range` of them), opened with its key when it is sealed.
pub async fn read(
    storage: &crate::Storage,
    key: &str,
    file_key: Option<&FileKey>,
    size: u64,
    range: Option<Range<u64>>,
) -> Result<BoxStream<'static, std::io::Result<Bytes>>, crate::StorageError> {
    // What can be checked before a caller sends a status is checked here: that the object is
    // there, has the size its record says and, when sealed, that its first chunk opens.
    let missing = |e: crate::StorageError| match e {
        crate::StorageError::NotFound => crate::StorageError::Damaged("it is missing".into()),
        other => other,
    };
    let expected = match file_key {
        None => size,
        Some(_) => sealed_size(size),
    };
    let fetch = match (file_key, &range) {
        (None, r) => r.clone(),
        (Some(_), r) => Some(FileKey::sealed_range(&r.clone().unwrap_or(0..size), size)),
    };
    let (stored, stream) = storage.get_stream(key, fetch).await.map_err(missing)?;
    if stored != expected {
        return Err(crate::StorageError::Damaged(format!(
            "it holds {stored} bytes where {expected} were stored"
        )));
    }
    let Some(fk) = file_key else {
        return Ok(stream);
    };
    let plain = range.unwrap_or(0..size);
    let mut opened = fk.open_stream(stream, plain, size);
    match opened.next().await {
        Some(Err(e)) => Err(crate::StorageError::Damaged(format!(
            "it does not open: {e}"
        ))),
        Some(Ok(first)) => Ok(futures_util::stream::once(async move { Ok(first) })
            .chain(opened)
            .boxed()),
        None => Ok(opened),
    }
}

/// Where sealing a stream has got to.
struct Sealing<'a> {
    cipher: Aes256Gcm,
    plain: BoxStream<'a, std::io::Result<Bytes>>,
    buffer: BytesMut,
    index: u64,
    done: bool,
}

/// Where reading a sealed stream has got to.
struct Opening {
    cipher: Aes256Gcm,
    sealed: BoxStream<'static, std::io::Result<Bytes>>,
    pending: BytesMut,
    index: u64,
    /// Plaintext bytes still to skip in the next chunk, and still to give.
    skip: u64,
    left: u64,
    size: u64,
    failed: bool,
}

impl Opening {
    async fn next_chunk(&mut self) -> std::io::Result<Bytes> {
        let plain_len = self.size.saturating_sub(self.index * CHUNK).min(CHUNK);
        let chunk_len = (plain_len + TAG) as usize;
        while self.pending.len() < chunk_len {
            match self.sealed.next().await {
                Some(b) => self.pending.extend_from_slice(&b?),
                None => {
                    return Err(std::io::Error::other(
                        "the stored file ends early: it was truncated or damaged",
                    ));
                }
            }
        }
        let piece = self.pending.split_to(chunk_len);
        let last = self.index + 1 == chunks(self.size);
        let plain = FileKey::open(&self.cipher, self.index, last, &piece)?;
        let from = self.skip as usize;
        let to = (self.skip + self.left).min(plain.len() as u64) as usize;
        self.skip = 0;
        self.left -= (to - from) as u64;
        self.index += 1;
        Ok(Bytes::copy_from_slice(&plain[from..to]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sealed_object(key: &FileKey, plain: &[u8]) -> Vec<u8> {
        let pieces: Vec<std::io::Result<Bytes>> = plain
            .chunks(10_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let mut s = key.seal_stream(futures_util::stream::iter(pieces));
        let mut out = Vec::new();
        while let Some(b) = s.next().await {
            out.extend_from_slice(&b.unwrap());
        }
        out
    }

    async fn read(
        key: &FileKey,
        object: &[u8],
        range: Range<u64>,
        size: u64,
    ) -> std::io::Result<Vec<u8>> {
        let r = FileKey::sealed_range(&range, size);
        let part =
            Bytes::copy_from_slice(&object[r.start as usize..(r.end as usize).min(object.len())]);
        // Deliver in odd-sized pieces, as a network would.
        let pieces: Vec<std::io::Result<Bytes>> = part
            .chunks(7_777)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let mut s = key.open_stream(futures_util::stream::iter(pieces).boxed(), range, size);
        let mut out = Vec::new();
        while let Some(b) = s.next().await {
            out.extend_from_slice(&b?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn any_range_reads_back_and_tampering_is_caught() {
        let master = MasterKey::parse(&STANDARD.encode([7u8; 32])).unwrap();
        let (firm, file) = ([1u8; 16], [2u8; 16]);
        let (key, wrapped) = master.new_file_key(&firm, &file);
        let plain: Vec<u8> = (0..(3 * CHUNK + 1234)).map(|i| (i % 251) as u8).collect();
        let size = plain.len() as u64;
        let object = sealed_object(&key, &plain).await;
        assert_eq!(object.len() as u64, sealed_size(size));
        let key = master.file_key(&firm, &file, &wrapped).unwrap();
        for range in [
            0..size,
            0..1,
            5..CHUNK + 3,
            CHUNK..2 * CHUNK,
            size - 10..size,
            2 * CHUNK - 1..2 * CHUNK + 1,
        ] {
            assert_eq!(
                read(&key, &object, range.clone(), size).await.unwrap(),
                plain[range.start as usize..range.end as usize],
                "{range:?}"
            );
        }
        // A changed byte, a truncated object, another firm's or file's wrapping all fail.
        let mut bad = object.clone();
        bad[CHUNK as usize + 40] ^= 1;
        assert!(read(&key, &bad, 0..size, size).await.is_err());
        assert!(
            read(&key, &object[..object.len() - 20], 0..size, size)
                .await
                .is_err()
        );
        assert!(master.file_key(&[9u8; 16], &file, &wrapped).is_err());
        assert!(master.file_key(&firm, &[9u8; 16], &wrapped).is_err());
        let other = MasterKey::parse(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.file_key(&firm, &file, &wrapped).is_err());
        assert!(MasterKey::parse("c2hvcnQ=").is_err());
        // Account secrets: sealed for one person, opened only for them and with this key.
        let sealed = master.seal_secret(&[5u8; 16], "JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(
            open_secret(Some(&master), &[5u8; 16], &sealed).unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        assert!(open_secret(Some(&master), &[6u8; 16], &sealed).is_err());
        assert!(open_secret(Some(&other), &[5u8; 16], &sealed).is_err());
        assert!(open_secret(None, &[5u8; 16], &sealed).is_err());
        assert_eq!(
            open_secret(None, &[5u8; 16], "PLAINSECRET").unwrap(),
            "PLAINSECRET"
        );
        // Sizes at the edges: empty, exactly one chunk, one byte more.
        for n in [0, CHUNK, CHUNK + 1] {
            let plain = vec![3u8; n as usize];
            let object = sealed_object(&key, &plain).await;
            assert_eq!(object.len() as u64, sealed_size(n));
            assert_eq!(read(&key, &object, 0..n, n).await.unwrap(), plain);
        }
        // Cutting off whole final chunks is caught too.
        let cut = &object[..(2 * (CHUNK + TAG)) as usize];
        assert!(read(&key, cut, 0..size, size).await.is_err());
    }
}
