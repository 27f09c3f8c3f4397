//! Who may do what, decided from the viewer and facts already read. The query that found a
//! row has already confined it to the viewer's firm; these rules decide within the firm.

use uuid::Uuid;

use crate::{Side, Viewer};

/// Whether the viewer reaches a client's things: staff every client of their firm, a
/// client's people only their own client.
pub fn reaches_client(viewer: &Viewer, client_id: Uuid) -> bool {
    viewer.client_scope().is_none_or(|own| own == client_id)
}

/// Whether the viewer may change (rename, move, delete) a folder of a client they reach:
/// staff any; a client's people only one made on their side.
pub fn may_change_folder(viewer: &Viewer, created_side: Side) -> bool {
    viewer.is_staff() || created_side == Side::Client
}

/// Whether the viewer may move a file of a client they reach: staff any; a client's people
/// their own uploads, and the files the firm shared when the firm lets clients move those.
pub fn may_move_file(viewer: &Viewer, uploaded_side: Side, firm_allows_client_moves: bool) -> bool {
    viewer.is_staff() || uploaded_side == Side::Client || firm_allows_client_moves
}

/// Whether a page address is on the viewer's side: `/staff/…` for staff, every other
/// address for a client's people.
pub fn on_viewers_side(path: &str, viewer: &Viewer) -> bool {
    path.starts_with("/staff/") == viewer.is_staff()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaffRole;

    fn staff() -> Viewer {
        Viewer::Staff {
            user_id: Uuid::from_u128(1),
            firm_id: Uuid::from_u128(10),
            staff_id: Uuid::from_u128(2),
            role: StaffRole::Member,
        }
    }

    fn client_of(client_id: Uuid) -> Viewer {
        Viewer::Client {
            user_id: Uuid::from_u128(3),
            firm_id: Uuid::from_u128(10),
            client_id,
            client_user_id: Uuid::from_u128(4),
            is_client_admin: false,
        }
    }

    const OWN: Uuid = Uuid::from_u128(100);
    const OTHER: Uuid = Uuid::from_u128(200);

    #[test]
    fn staff_reach_every_client_and_clients_only_their_own() {
        assert!(reaches_client(&staff(), OWN));
        assert!(reaches_client(&staff(), OTHER));
        assert!(reaches_client(&client_of(OWN), OWN));
        assert!(!reaches_client(&client_of(OTHER), OWN));
    }

    #[test]
    fn clients_change_only_folders_their_side_made() {
        assert!(may_change_folder(&staff(), Side::Staff));
        assert!(may_change_folder(&staff(), Side::Client));
        assert!(may_change_folder(&client_of(OWN), Side::Client));
        assert!(!may_change_folder(&client_of(OWN), Side::Staff));
        // Another client's folder is out of reach before this rule is asked.
        assert!(!reaches_client(&client_of(OTHER), OWN));
    }

    #[test]
    fn clients_move_shared_files_only_when_the_firm_allows() {
        assert!(may_move_file(&staff(), Side::Staff, false));
        assert!(may_move_file(&staff(), Side::Client, false));
        assert!(may_move_file(&client_of(OWN), Side::Client, false));
        assert!(!may_move_file(&client_of(OWN), Side::Staff, false));
        assert!(may_move_file(&client_of(OWN), Side::Staff, true));
        assert!(!reaches_client(&client_of(OTHER), OWN));
    }

    #[test]
    fn each_side_has_its_own_addresses() {
        assert!(on_viewers_side("/staff/clients", &staff()));
        assert!(!on_viewers_side("/portal/files", &staff()));
        assert!(!on_viewers_side("/staff", &staff()));
        assert!(on_viewers_side("/portal/files", &client_of(OWN)));
        assert!(!on_viewers_side("/staff/clients", &client_of(OWN)));
        assert!(!on_viewers_side("/staff/clients", &client_of(OTHER)));
    }
}
