//! Files: whether one may be served yet.

crate::named_enum! {
    /// Where a file stands with the virus scanner.
    pub enum ScanStatus("scan status") {
        /// Waiting for the scanner; not served.
        Pending = "pending",
        /// Served.
        Clean = "clean",
        /// Never served: the scanner found something in it.
        Infected = "infected",
    }
}
