//! Where objects live in the store: every key of a firm's objects starts with the firm, so a
//! firm's objects can be listed, backed up or removed together.

/// Where the parts of upload `id` are kept: everything under this prefix belongs to it.
pub fn parts_prefix(id: impl std::fmt::Display) -> String {
    format!("uploads/{id}/")
}

/// A file's key in storage.
pub fn file_key(firm_id: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    format!("firms/{firm_id}/files/{id}")
}

/// Where the first part of upload `id` is kept, beside the firm's files: an upload sent in one
/// request becomes its file where it lies, with no copying.
pub fn first_prefix(firm_id: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    format!("firms/{firm_id}/files/{id}/")
}

/// Where the parts of an upload sent in several requests are joined into its file.
pub fn joined_key(firm_id: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    format!("firms/{firm_id}/files/{id}-joined")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_firms_objects_share_its_prefix() {
        assert_eq!(super::parts_prefix("1"), "uploads/1/");
        assert_eq!(super::file_key("f", "1"), "firms/f/files/1");
        assert_eq!(super::first_prefix("f", "1"), "firms/f/files/1/");
        assert_eq!(super::joined_key("f", "1"), "firms/f/files/1-joined");
    }
}
