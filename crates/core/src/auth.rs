//! Signing in: how a session's holder proved who they are.

use std::fmt;
use std::str::FromStr;

use crate::names::UnknownName;

/// How a session was signed in, stored as its first step and, after a `+`, its second one
/// (`password`, `link+totp` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthMethod {
    pub first: SignIn,
    pub second: Option<SecondStep>,
}

crate::named_enum! {
    /// The first step of a sign-in.
    pub enum SignIn("sign-in method") {
        Password = "password",
        Passkey = "passkey",
        /// An emailed access link, on the device it was first opened on.
        Link = "link",
    }

    /// The second step after a password or a link, where two-step sign-in is on.
    pub enum SecondStep("second step") {
        Totp = "totp",
        Passkey = "passkey",
    }
}

impl AuthMethod {
    /// Signed in through an access link (with or without a second step).
    pub fn is_link(self) -> bool {
        self.first == SignIn::Link
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.second {
            None => write!(f, "{}", self.first),
            Some(second) => write!(f, "{}+{second}", self.first),
        }
    }
}

impl FromStr for AuthMethod {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<AuthMethod, UnknownName> {
        let unknown = || UnknownName {
            what: "sign-in method",
            name: s.to_owned(),
        };
        let (first, second) = match s.split_once('+') {
            Some((first, second)) => (first, Some(second)),
            None => (s, None),
        };
        Ok(AuthMethod {
            first: SignIn::parse(first).ok_or_else(unknown)?,
            second: second
                .map(|n| SecondStep::parse(n).ok_or_else(unknown))
                .transpose()?,
        })
    }
}

impl TryFrom<&str> for AuthMethod {
    type Error = UnknownName;

    fn try_from(s: &str) -> Result<AuthMethod, UnknownName> {
        s.parse()
    }
}

impl TryFrom<String> for AuthMethod {
    type Error = UnknownName;

    fn try_from(s: String) -> Result<AuthMethod, UnknownName> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(first: SignIn, second: Option<SecondStep>) -> AuthMethod {
        AuthMethod { first, second }
    }

    #[test]
    fn sign_in_methods_round_trip_through_their_stored_names() {
        let mut every = Vec::new();
        for &first in SignIn::ALL {
            every.push(method(first, None));
            every.extend(SecondStep::ALL.iter().map(|&s| method(first, Some(s))));
        }
        crate::names::assert_round_trip(
            &every,
            "password password+totp password+passkey passkey passkey+totp passkey+passkey \
             link link+totp link+passkey",
        );
        for bad in ["link+", "+totp", "password+link", "password+totp+totp"] {
            assert!(bad.parse::<AuthMethod>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_link_sessions_count_as_link_sessions() {
        assert!(method(SignIn::Link, None).is_link());
        assert!(method(SignIn::Link, Some(SecondStep::Passkey)).is_link());
        assert!(!method(SignIn::Password, Some(SecondStep::Totp)).is_link());
        assert!(!method(SignIn::Passkey, None).is_link());
    }
}
