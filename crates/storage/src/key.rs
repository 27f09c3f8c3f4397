//! Object keys: checked before they reach a backend, so that no key can name a file outside
//! the store's folder on local disk or mean different objects on different backends.

use object_store::path::Path;

use crate::StorageError;

pub(crate) fn key_path(key: &str) -> Result<Path, StorageError> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        || key.chars().any(char::is_control);
    if bad {
        return Err(StorageError::InvalidKey(key.to_string()));
    }
    Path::parse(key).map_err(|_| StorageError::InvalidKey(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::key_path;

    #[test]
    fn keys_cannot_escape_their_place() {
        for bad in [
            "", "/abs", "a/../b", "a//b", "..", "a/./b", "a/", "a\u{0}b", "a\nb", "a\u{7f}",
        ] {
            assert!(key_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            key_path("firm/0190/obj/abc").unwrap().as_ref(),
            "firm/0190/obj/abc"
        );
    }
}
