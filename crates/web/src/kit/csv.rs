//! CSV for spreadsheets: RFC 4180 quoting, and cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or carriage return) turned into plain text with a
//! leading apostrophe.

/// One CSV record from its cells, ending in CRLF.
pub(crate) fn record<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let neutral = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{cell}")
        } else {
            cell.to_string()
        };
        if neutral.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&neutral.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&neutral);
        }
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::record;

    #[test]
    fn formulas_become_text_and_quoting_follows_rfc_4180() {
        assert_eq!(record(["a", "b c"]), "a,b c\r\n");
        assert_eq!(
            record(["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@SUM(A1)"]),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1,'-2,'@SUM(A1)\r\n"
        );
        assert_eq!(
            record(["\tcmd", "a,b", "line\nbreak"]),
            "'\tcmd,\"a,b\",\"line\nbreak\"\r\n"
        );
        assert_eq!(record(["\r=1"]), "\"'\r=1\"\r\n");
    }
}
