//! Forms and questionnaires: what a form asks (its [`Definition`]: sections of fields with
//! rules and conditions), the answers a client gives, and the checks an answer must pass.
//!
//! Two levels of checking: [`check_shape`] refuses what no honest form page can send (a field
//! that does not exist, a choice that is not offered, a list for a single value, oversized
//! text); [`check_complete`] runs at submission and points at each field that is required and
//! empty or breaks its rule. Drafts only pass the first, so nothing a client typed is lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The longest text any one answer may hold, whatever the field's own limit.
pub const MAX_ANSWER_CHARS: usize = 10_000;
/// The most fields a form may have.
pub const MAX_FIELDS: usize = 500;
/// The largest drawn signature (a PNG as a data URL).
pub const MAX_DRAWN_BYTES: usize = 300_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ShortText,
    LongText,
    Number,
    Date,
    Email,
    Phone,
    SingleChoice,
    MultiChoice,
    YesNo,
    Address,
    File,
    Signature,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::ShortText,
        Kind::LongText,
        Kind::Number,
        Kind::Date,
        Kind::Email,
        Kind::Phone,
        Kind::SingleChoice,
        Kind::MultiChoice,
        Kind::YesNo,
        Kind::Address,
        Kind::File,
        Kind::Signature,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ShortText => "short_text",
            Kind::LongText => "long_text",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::SingleChoice => "single_choice",
            Kind::MultiChoice => "multi_choice",
            Kind::YesNo => "yes_no",
            Kind::Address => "address",
            Kind::File => "file",
            Kind::Signature => "signature",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the builder calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::ShortText => "Short text",
            Kind::LongText => "Long text",
            Kind::Number => "Number",
            Kind::Date => "Date",
            Kind::Email => "Email",
            Kind::Phone => "Phone",
            Kind::SingleChoice => "Single choice",
            Kind::MultiChoice => "Multiple choice",
            Kind::YesNo => "Yes / no",
            Kind::Address => "Address",
            Kind::File => "File upload",
            Kind::Signature => "Signature",
        }
    }

    pub fn has_options(self) -> bool {
        matches!(self, Kind::SingleChoice | Kind::MultiChoice)
    }

    /// Whether length and pattern rules apply.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Kind::ShortText | Kind::LongText | Kind::Email | Kind::Phone
        )
    }
}

crate::named_enum! {
    /// Where a form sent to a client stands.
    pub enum AssignmentStatus("form status") {
        /// The client may fill it in (again, when the firm asked for changes).
        Open = "open",
        /// Submitted; the firm reviews it.
        Submitted = "submitted",
    }
}

/// Show a field only when an earlier field's answer is (or, for multiple choice, includes)
/// `equals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub equals: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Stable within the form: answers are kept under it, so a label can change freely.
    pub id: String,
    pub kind: Kind,
    pub label: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Length (text) or value (number) bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A regular expression the whole answer must match (text kinds).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// For signatures: the statement the signer agrees to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub consent: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// A form's questions. Each saved change to a template is a new version of it; a client's
/// form keeps the version it was sent with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Definition {
    pub sections: Vec<Section>,
    /// The number the next new field's id is made from.
    #[serde(default)]
    pub next_field: u32,
}

/// One answer: text, a list (multiple choice) or named parts (address, signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    List(Vec<String>),
    Parts(BTreeMap<String, String>),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(t) => t.trim().is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Parts(p) => p.values().all(|v| v.trim().is_empty()),
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Value::Text(t) => t,
            _ => "",
        }
    }

    pub fn part(&self, name: &str) -> &str {
        match self {
            Value::Parts(p) => p.get(name).map_or("", String::as_str),
            _ => "",
        }
    }

    /// The answer in one line of words, for lists, exports and the PDF.
    pub fn display(&self, kind: Kind) -> String {
        match (self, kind) {
            (Value::Text(t), Kind::YesNo) => match t.as_str() {
                "yes" => "Yes".into(),
                "no" => "No".into(),
                other => other.into(),
            },
            (Value::Text(t), _) => t.clone(),
            (Value::List(l), _) => l.join("; "),
            (Value::Parts(_), Kind::Signature) => {
                let how = if self.part("drawn").is_empty() {
                    "typed"
                } else {
                    "typed and drawn"
                };
                format!("Signed by {} ({how})", self.part("name"))
            }
            (Value::Parts(_), Kind::File) => self.part("name").to_string(),
            (Value::Parts(_), _) => ADDRESS_PARTS
                .iter()
                .map(|(k, _)| self.part(k).trim())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// An address's parts and their labels.
pub const ADDRESS_PARTS: [(&str, &str); 6] = [
    ("line1", "Street and number"),
    ("line2", "Apartment, suite (optional)"),
    ("city", "City"),
    ("region", "State or region"),
    ("postcode", "Postal code"),
    ("country", "Country"),
];

/// An uploaded file's parts: the stored file's id and its name. Only an upload sets them.
pub fn file_answer(id: &str, name: &str) -> Value {
    Value::Parts(BTreeMap::from([
        ("id".to_string(), id.to_string()),
        ("name".to_string(), name.to_string()),
    ]))
}

/// A signature's parts: the typed name, "yes" for agreeing, and optionally the drawn image.
pub const SIGNATURE_PARTS: [&str; 3] = ["name", "agree", "drawn"];

pub type Answers = BTreeMap<String, Value>;

/// Where a problem is: the field's id (empty for the form as a whole) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    fn new(field: &str, message: impl Into<String>) -> Problem {
        Problem {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl Definition {
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().find(|f| f.id == id)
    }

    /// Every question by id, for looking many up at once.
    pub fn index(&self) -> std::collections::HashMap<&str, &Field> {
        self.fields().map(|f| (f.id.as_str(), f)).collect()
    }

    pub fn field_count(&self) -> usize {
        self.sections.iter().map(|s| s.fields.len()).sum()
    }

    /// Which fields are shown for these answers: a field with a condition is shown when the
    /// field it depends on is shown and answered as the condition says.
    pub fn visible(&self, answers: &Answers) -> std::collections::HashSet<&str> {
        let mut shown = std::collections::HashSet::new();
        for f in self.fields() {
            let on = match &f.show_if {
                None => true,
                Some(c) => shown.contains(c.field.as_str()) && matches(answers.get(&c.field), c),
            };
            if on {
                shown.insert(f.id.as_str());
            }
        }
        shown
    }

    /// Checks the definition itself, as the builder saves it: labels present, options for
    /// choices, patterns that compile, conditions on earlier fields with a value they can take.
    pub fn check(&self) -> Result<(), String> {
        if self.field_count() > MAX_FIELDS {
            return Err(format!("A form can have at most {MAX_FIELDS} fields."));
        }
        let mut earlier: Vec<&Field> = Vec::new();
        for s in &self.sections {
            if s.title.trim().is_empty() || s.title.chars().count() > 200 {
                return Err("Give each section a title of at most 200 characters.".into());
            }
            for f in &s.fields {
                if f.label.trim().is_empty() || f.label.chars().count() > 500 {
                    return Err("Give each field a label of at most 500 characters.".into());
                }
                if f.kind.has_options() && f.options.is_empty() {
                    return Err(format!("“{}” needs at least one option.", f.label));
                }
                if f.options
                    .iter()
                    .any(|o| o.trim().is_empty() || o.len() > 200)
                {
                    return Err(format!(
                        "Options of “{}” must be 1 to 200 characters.",
                        f.label
                    ));
                }
                if let (Some(a), Some(b)) = (f.min, f.max)
                    && a > b
                {
                    return Err(format!("“{}”: the minimum is above the maximum.", f.label));
                }
                if !f.pattern.is_empty() {
                    if f.pattern.len() > 500 {
                        return Err("Keep patterns under 500 characters.".into());
                    }
                    regex::Regex::new(&anchored(&f.pattern))
                        .map_err(|_| format!("The pattern of “{}” is not valid.", f.label))?;
                }
                if let Some(c) = &f.show_if {
                    let Some(ctrl) = earlier.iter().find(|e| e.id == c.field) else {
                        return Err(format!(
                            "“{}” can only depend on a field before it.",
                            f.label
                        ));
                    };
                    let possible = match ctrl.kind {
                        Kind::YesNo => c.equals == "yes" || c.equals == "no",
                        k if k.has_options() => ctrl.options.contains(&c.equals),
                        _ => !c.equals.is_empty(),
                    };
                    if !possible {
                        return Err(format!(
                            "“{}” depends on an answer “{}” cannot have.",
                            f.label, ctrl.label
                        ));
                    }
                }
                earlier.push(f);
            }
        }
        Ok(())
    }
}

fn matches(answer: Option<&Value>, c: &Condition) -> bool {
    match answer {
        Some(Value::Text(t)) => t.trim() == c.equals,
        Some(Value::List(l)) => l.contains(&c.equals),
        _ => false,
    }
}

fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// Refuses an answer no honest form page sends for this field.
pub fn check_shape(field: &Field, value: &Value) -> Result<(), Problem> {
    let too_long = |s: &str| s.chars().count() > MAX_ANSWER_CHARS;
    let controls = |s: &str| {
        s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    };
    let bad = |m: &str| Err(Problem::new(&field.id, format!("“{}”: {m}", field.label)));
    match (field.kind, value) {
        (Kind::MultiChoice, Value::List(l)) => {
            if let Some(o) = l.iter().find(|o| !field.options.contains(o)) {
                return bad(&format!("“{o}” is not one of the choices."));
            }
            Ok(())
        }
        (Kind::MultiChoice, Value::Text(t)) if t.is_empty() => Ok(()),
        (Kind::Address, Value::Parts(p)) => {
            if p.keys().any(|k| !ADDRESS_PARTS.iter().any(|(a, _)| a == k)) {
                return bad("that is not part of an address.");
            }
            if p.values().any(|v| v.chars().count() > 500 || controls(v)) {
                return bad("each line of an address holds at most 500 characters.");
            }
            Ok(())
        }
        (Kind::Signature, Value::Parts(p)) => {
            if p.keys().any(|k| !SIGNATURE_PARTS.contains(&k.as_str())) {
                return bad("that is not part of a signature.");
            }
            let name = p.get("name").map_or("", String::as_str);
            if name.chars().count() > 200 || controls(name) {
                return bad("type your name in at most 200 characters.");
            }
            let drawn = p.get("drawn").map_or("", String::as_str);
            if !drawn.is_empty()
                && (drawn.len() > MAX_DRAWN_BYTES || !drawn.starts_with("data:image/png;base64,"))
            {
                return bad("the drawn signature could not be read; draw it again.");
            }
            Ok(())
        }
        (Kind::File, Value::Parts(p)) if p.keys().all(|k| k == "id" || k == "name") => Ok(()),
        (Kind::MultiChoice | Kind::Address | Kind::Signature | Kind::File, _) => {
            bad("that answer has the wrong shape.")
        }
        (_, Value::Text(t)) => {
            if too_long(t) {
                return bad(&format!("use at most {MAX_ANSWER_CHARS} characters."));
            }
            if controls(t) {
                return bad("remove the control characters.");
            }
            let t = t.trim();
            match field.kind {
                Kind::SingleChoice if !t.is_empty() && !field.options.iter().any(|o| o == t) => {
                    bad(&format!("“{t}” is not one of the choices."))
                }
                Kind::YesNo if !matches!(t, "" | "yes" | "no") => bad("answer yes or no."),
                _ => Ok(()),
            }
        }
        _ => bad("that answer has the wrong shape."),
    }
}

/// What keeps a shown field from being submitted, if anything.
pub fn check_value(field: &Field, value: Option<&Value>) -> Option<String> {
    let empty = value.is_none_or(Value::is_empty);
    if empty {
        return field.required.then(|| match field.kind {
            Kind::Signature => "Sign here: type your name and agree to the statement.".into(),
            Kind::File => "Upload a file here.".into(),
            Kind::SingleChoice | Kind::YesNo => "Choose an answer.".into(),
            Kind::MultiChoice => "Choose at least one answer.".into(),
            _ => "This question needs an answer.".into(),
        });
    }
    let value = value?;
    let t = value.text().trim();
    let len = t.chars().count() as f64;
    match field.kind {
        k if k.is_text() => {
            if let Some(min) = field.min
                && len < min
            {
                return Some(format!("Use at least {min} characters."));
            }
            if let Some(max) = field.max
                && len > max
            {
                return Some(format!("Use at most {max} characters."));
            }
            if k == Kind::Email && crate::validate::email(t).is_err() {
                return Some("Enter an email address like name@example.com.".into());
            }
            if k == Kind::Phone
                && (t.chars().filter(char::is_ascii_digit).count() < 6
                    || !t
                        .chars()
                        .all(|c| c.is_ascii_digit() || " +-().".contains(c)))
            {
                return Some(
                    "Enter a phone number with its area code, like +1 555 010 0199.".into(),
                );
            }
            if !field.pattern.is_empty()
                && !regex::Regex::new(&anchored(&field.pattern)).is_ok_and(|r| r.is_match(t))
            {
                return Some("This answer is not in the form asked for.".into());
            }
            None
        }
        Kind::Number => match t.parse::<f64>() {
            Ok(n) if n.is_finite() => {
                if let Some(min) = field.min
                    && n < min
                {
                    return Some(format!("Enter {min} or more."));
                }
                if let Some(max) = field.max
                    && n > max
                {
                    return Some(format!("Enter {max} or less."));
                }
                None
            }
            _ => Some("Enter a number, like 42 or 3.5.".into()),
        },
        Kind::Date => {
            time::Date::parse(t, time::macros::format_description!("[year]-[month]-[day]"))
                .is_err()
                .then(|| "Enter a date as YYYY-MM-DD.".into())
        }
        Kind::Address => {
            let missing = ["line1", "city", "country"]
                .iter()
                .any(|p| value.part(p).trim().is_empty());
            missing.then(|| "Give at least the street, city and country.".into())
        }
        Kind::Signature => {
            if value.part("name").trim().is_empty() {
                Some("Type your full name to sign.".into())
            } else if value.part("agree") != "yes" {
                Some("Tick the box to agree to the statement.".into())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Everything that keeps these answers from being submitted, in the form's order. Fields
/// hidden by their condition are neither required nor checked.
pub fn check_complete(def: &Definition, answers: &Answers) -> Vec<Problem> {
    let visible = def.visible(answers);
    def.fields()
        .filter(|f| visible.contains(f.id.as_str()))
        .filter_map(|f| check_value(f, answers.get(&f.id)).map(|m| Problem::new(&f.id, m)))
        .collect()
}

/// The answers as submitted: those of shown fields only.
pub fn submitted(def: &Definition, answers: &Answers) -> Answers {
    let visible = def.visible(answers);
    answers
        .iter()
        .filter(|(k, _)| visible.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: &str, kind: Kind) -> Field {
        Field {
            id: id.into(),
            kind,
            label: id.to_uppercase(),
            help: String::new(),
            required: true,
            options: Vec::new(),
            min: None,
            max: None,
            pattern: String::new(),
            show_if: None,
            consent: String::new(),
        }
    }

    fn def(fields: Vec<Field>) -> Definition {
        Definition {
            sections: vec![Section {
                title: "One".into(),
                help: String::new(),
                fields,
            }],
            next_field: 10,
        }
    }

    #[test]
    fn conditional_fields_are_required_only_when_shown() {
        let mut b = field("b", Kind::ShortText);
        b.show_if = Some(Condition {
            field: "a".into(),
            equals: "yes".into(),
        });
        let d = def(vec![field("a", Kind::YesNo), b]);
        assert!(d.check().is_ok());
        let mut answers = Answers::new();
        answers.insert("a".into(), Value::Text("no".into()));
        answers.insert("b".into(), Value::Text("left over".into()));
        assert!(check_complete(&d, &answers).is_empty());
        assert!(!submitted(&d, &answers).contains_key("b"));
        answers.insert("a".into(), Value::Text("yes".into()));
        answers.remove("b");
        let problems = check_complete(&d, &answers);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "b");
    }

    #[test]
    fn shapes_and_rules() {
        let mut choice = field("c", Kind::SingleChoice);
        choice.options = vec!["Red".into(), "Blue".into()];
        assert!(check_shape(&choice, &Value::Text("Green".into())).is_err());
        assert!(check_shape(&choice, &Value::List(vec!["Red".into()])).is_err());
        assert!(check_shape(&choice, &Value::Text("Red".into())).is_ok());
        let mut n = field("n", Kind::Number);
        n.min = Some(1.0);
        n.max = Some(10.0);
        assert!(check_value(&n, Some(&Value::Text("abc".into()))).is_some());
        assert!(check_value(&n, Some(&Value::Text("11".into()))).is_some());
        assert!(check_value(&n, Some(&Value::Text("NaN".into()))).is_some());
        assert!(check_value(&n, Some(&Value::Text("7".into()))).is_none());
        let mut p = field("p", Kind::ShortText);
        p.pattern = "[A-Z]{3}[0-9]{10}".into();
        assert!(check_value(&p, Some(&Value::Text("IOE0123456789".into()))).is_none());
        assert!(check_value(&p, Some(&Value::Text("xIOE0123456789".into()))).is_some());
        let t = field("t", Kind::ShortText);
        assert!(check_shape(&t, &Value::Text("x".repeat(MAX_ANSWER_CHARS + 1))).is_err());
        assert!(check_shape(&t, &Value::Text("a\0b".into())).is_err());
        let mut bad = def(vec![p.clone()]);
        bad.sections[0].fields[0].pattern = "(".into();
        assert!(bad.check().is_err());
    }

    #[test]
    fn conditions_must_point_back_at_a_possible_answer() {
        let mut b = field("b", Kind::ShortText);
        b.show_if = Some(Condition {
            field: "a".into(),
            equals: "maybe".into(),
        });
        assert!(
            def(vec![field("a", Kind::YesNo), b.clone()])
                .check()
                .is_err()
        );
        b.show_if = Some(Condition {
            field: "z".into(),
            equals: "yes".into(),
        });
        assert!(def(vec![b, field("z", Kind::YesNo)]).check().is_err());
    }
}
