//! A plain PDF document of headings and wrapped paragraphs, for exporting a form submission.
//! It uses the standard Helvetica fonts every PDF reader has (nothing embedded), with the
//! Windows-1252 encoding: text outside it is shown as `?`.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// One block of the document.
pub(crate) enum Block {
    Title(String),
    Heading(String),
    /// A question's label in bold, then its answer.
    Answer(String, String),
    Line(String),
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// Encodes text for a WinAnsi font, as PDF string bytes.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '\t' => b' ',
            _ => b'?',
        })
        .collect()
}

/// A generous estimate of a character's width in Helvetica, in thousandths of the font size,
/// so wrapped lines never run past the margin.
fn width(c: char) -> f32 {
    match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 280.0,
        'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' => 340.0,
        'm' | 'w' | 'M' | 'W' | '@' | '%' => 940.0,
        'A'..='Z' | '&' => 730.0,
        _ => 570.0,
    }
}

/// Splits a paragraph into lines no wider than `max` points at `size`.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut w = 0.0;
        for word in para.split(' ') {
            let ww: f32 = word.chars().map(width).sum::<f32>() * size / 1000.0;
            let space = width(' ') * size / 1000.0;
            if !line.is_empty() && w + space + ww > max {
                lines.push(std::mem::take(&mut line));
                w = 0.0;
            }
            if ww > max {
                // A word longer than the line is cut wherever it must be.
                for c in word.chars() {
                    let cw = width(c) * size / 1000.0;
                    if w + cw > max {
                        lines.push(std::mem::take(&mut line));
                        w = 0.0;
                    }
                    line.push(c);
                    w += cw;
                }
                continue;
            }
            if !line.is_empty() {
                line.push(' ');
                w += space;
            }
            line.push_str(word);
            w += ww;
        }
        lines.push(line);
    }
    lines
}

/// Lays the blocks out on A4 pages and returns the PDF's bytes.
pub(crate) fn document(title: &str, blocks: &[Block]) -> Vec<u8> {
    // Each line: (font, size, indent, text, space before).
    let mut lines: Vec<(Name, f32, f32, String, f32)> = Vec::new();
    let usable = PAGE_W - 2.0 * MARGIN;
    for b in blocks {
        match b {
            Block::Title(t) => {
                for l in wrap(t, 18.0, usable) {
                    lines.push((BOLD, 18.0, 0.0, l, 6.0));
                }
            }
            Block::Heading(t) => {
                for (i, l) in wrap(t, 13.0, usable).into_iter().enumerate() {
                    lines.push((BOLD, 13.0, 0.0, l, if i == 0 { 14.0 } else { 2.0 }));
                }
            }
            Block::Answer(label, answer) => {
                for (i, l) in wrap(label, 10.0, usable).into_iter().enumerate() {
                    lines.push((BOLD, 10.0, 0.0, l, if i == 0 { 8.0 } else { 1.0 }));
                }
                let answer = if answer.trim().is_empty() {
                    "(no answer)"
                } else {
                    answer
                };
                for l in wrap(answer, 10.0, usable - 12.0) {
                    lines.push((REGULAR, 10.0, 12.0, l, 2.0));
                }
            }
            Block::Line(t) => {
                for l in wrap(t, 9.0, usable) {
                    lines.push((REGULAR, 9.0, 0.0, l, 2.0));
                }
            }
        }
    }

    // Page by page: each page's content stream and its reference.
    let mut pages: Vec<Content> = Vec::new();
    let mut content = Content::new();
    let mut y = PAGE_H - MARGIN;
    for (font, size, indent, text, before) in &lines {
        let step = before + size * 1.25;
        if y - step < MARGIN {
            pages.push(std::mem::replace(&mut content, Content::new()));
            y = PAGE_H - MARGIN;
        }
        y -= step;
        content.begin_text();
        content.set_font(*font, *size);
        content.next_line(MARGIN + indent, y);
        content.show(Str(&win_ansi(text)));
        content.end_text();
    }
    pages.push(content);

    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first + 2 * i as i32))
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("Portico"));
    for (font_ref, name) in [(regular, &b"Helvetica"[..]), (bold, &b"Helvetica-Bold"[..])] {
        pdf.type1_font(font_ref)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (i, content) in pages.into_iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut res = page.resources();
        let mut fonts = res.fonts();
        fonts.pair(REGULAR, regular);
        fonts.pair(BOLD, bold);
        fonts.finish();
        res.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_and_paragraphs_wrap_within_the_line() {
        let lines = wrap(
            &format!("short words then {}", "W".repeat(200)),
            10.0,
            400.0,
        );
        assert!(lines.len() > 3);
        for l in &lines {
            assert!(l.chars().map(width).sum::<f32>() * 10.0 / 1000.0 <= 400.0);
        }
        assert_eq!(wrap("a\nb", 10.0, 400.0), vec!["a", "b"]);
    }

    #[test]
    fn text_outside_windows_1252_becomes_a_question_mark() {
        assert_eq!(win_ansi("Café “ok” 日"), b"Caf\xe9 \x93ok\x94 ?".to_vec());
    }

    #[test]
    fn many_blocks_make_several_pages() {
        let blocks: Vec<Block> = (0..200)
            .map(|i| Block::Answer(format!("Question {i}"), "An answer".into()))
            .collect();
        let pdf = document("T", &blocks);
        assert!(pdf.starts_with(b"%PDF-"));
        let pages = String::from_utf8_lossy(&pdf).matches("/MediaBox").count();
        assert!(pages > 1, "{pages} pages");
    }
}
