//! Enums stored by name: each variant is written to the database (and shown in the JSON API)
//! as one fixed lower-case word, and read back from it.

/// A name that is none of a type's names (a row written by something else, or a typo).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a known {what}")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

/// Declares an enum stored by name, with `as_str`, `parse`, `ALL`, `Display`, `FromStr`,
/// `TryFrom<&str>` and `TryFrom<String>` (the last is what sqlx's `#[sqlx(try_from)]` decodes
/// a column through).
#[macro_export]
macro_rules! named_enum {
    ($(
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    )+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            /// The name it is stored as.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::names::UnknownName;

            fn from_str(s: &str) -> Result<$name, Self::Err> {
                $name::parse(s).ok_or_else(|| $crate::names::UnknownName {
                    what: $what,
                    name: s.to_owned(),
                })
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::names::UnknownName;

            fn try_from(s: &str) -> Result<$name, Self::Error> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::names::UnknownName;

            fn try_from(s: String) -> Result<$name, Self::Error> {
                s.parse()
            }
        }
    )+};
}

/// Checks that every value of a named enum reads back from its name, that the names are
/// `names` (space-separated, in order), and that an unknown name is refused.
#[cfg(test)]
pub(crate) fn assert_round_trip<T>(all: &[T], names: &str)
where
    T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr,
    T: for<'a> TryFrom<&'a str> + TryFrom<String>,
{
    let written: Vec<String> = all.iter().map(|v| v.to_string()).collect();
    assert_eq!(written.join(" "), names);
    for &v in all {
        let name = v.to_string();
        assert_eq!(name.parse::<T>().ok(), Some(v));
        assert_eq!(T::try_from(name.as_str()).ok(), Some(v));
        assert_eq!(T::try_from(name.clone()).ok(), Some(v));
    }
    assert!("no such name".parse::<T>().is_err());
    assert!(T::try_from(String::new()).is_err());
}

#[cfg(test)]
mod tests {
    use super::assert_round_trip;
    use crate::auth::{SecondStep, SignIn};
    use crate::clients::ClientKind;
    use crate::files::ScanStatus;
    use crate::forms::AssignmentStatus;
    use crate::viewer::Side;

    #[test]
    fn every_named_enum_round_trips_through_the_names_already_stored() {
        assert_round_trip(Side::ALL, "staff client");
        assert_round_trip(ScanStatus::ALL, "pending clean infected");
        assert_round_trip(ClientKind::ALL, "person organisation");
        assert_round_trip(AssignmentStatus::ALL, "open submitted");
        assert_round_trip(SignIn::ALL, "password passkey link");
        assert_round_trip(SecondStep::ALL, "totp passkey");
    }
}
