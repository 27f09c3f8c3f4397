//! Clients of a firm.

crate::named_enum! {
    /// What a client is.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ClientKind("client kind") {
        Person = "person",
        Organisation = "organisation",
    }
}
