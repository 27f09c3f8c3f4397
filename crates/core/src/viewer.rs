//! The viewer: every read and write of firm data names who is asking, so that a query
//! without a tenant scope cannot be written.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A staff member's role within one firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Owner,
    Admin,
    Member,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Owner => "owner",
            StaffRole::Admin => "admin",
            StaffRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        match s {
            "owner" => Some(StaffRole::Owner),
            "admin" => Some(StaffRole::Admin),
            "member" => Some(StaffRole::Member),
            _ => None,
        }
    }
}

crate::named_enum! {
    /// Which side of the portal someone is on: the firm's staff or a client's people. Stored
    /// with what they wrote or uploaded, and as where a session works.
    pub enum Side("side") {
        Staff = "staff",
        Client = "client",
    }
}

impl Side {
    /// The side across the portal from this one.
    pub fn other(self) -> Side {
        match self {
            Side::Staff => Side::Client,
            Side::Client => Side::Staff,
        }
    }
}

/// Who is asking: a staff member of a firm, or a portal user of one client of a firm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Viewer {
    Staff {
        user_id: Uuid,
        firm_id: Uuid,
        staff_id: Uuid,
        role: StaffRole,
    },
    Client {
        user_id: Uuid,
        firm_id: Uuid,
        client_id: Uuid,
        client_user_id: Uuid,
        is_client_admin: bool,
    },
}

impl Viewer {
    pub fn firm_id(&self) -> Uuid {
        match self {
            Viewer::Staff { firm_id, .. } | Viewer::Client { firm_id, .. } => *firm_id,
        }
    }

    pub fn user_id(&self) -> Uuid {
        match self {
            Viewer::Staff { user_id, .. } | Viewer::Client { user_id, .. } => *user_id,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Viewer::Staff { .. })
    }

    pub fn side(&self) -> Side {
        match self {
            Viewer::Staff { .. } => Side::Staff,
            Viewer::Client { .. } => Side::Client,
        }
    }

    /// The client a client viewer is confined to; `None` for staff, who see the whole firm.
    pub fn client_scope(&self) -> Option<Uuid> {
        match self {
            Viewer::Staff { .. } => None,
            Viewer::Client { client_id, .. } => Some(*client_id),
        }
    }

    /// Firm-wide administration (staff accounts, settings, audit log).
    pub fn may_administer_firm(&self) -> bool {
        matches!(
            self,
            Viewer::Staff {
                role: StaffRole::Owner | StaffRole::Admin,
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_and_admins_administer_the_firm() {
        let staff = |role| Viewer::Staff {
            user_id: Uuid::nil(),
            firm_id: Uuid::nil(),
            staff_id: Uuid::nil(),
            role,
        };
        assert!(staff(StaffRole::Owner).may_administer_firm());
        assert!(staff(StaffRole::Admin).may_administer_firm());
        assert!(!staff(StaffRole::Member).may_administer_firm());
        let client = Viewer::Client {
            user_id: Uuid::nil(),
            firm_id: Uuid::nil(),
            client_id: Uuid::from_u128(7),
            client_user_id: Uuid::nil(),
            is_client_admin: true,
        };
        assert!(!client.may_administer_firm());
        assert_eq!(client.client_scope(), Some(Uuid::from_u128(7)));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [StaffRole::Owner, StaffRole::Admin, StaffRole::Member] {
            assert_eq!(StaffRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(StaffRole::parse("root"), None);
    }

    #[test]
    fn a_side_is_across_from_the_other() {
        assert_eq!(Side::Staff.other(), Side::Client);
        assert_eq!(Side::Client.other(), Side::Staff);
    }
}
