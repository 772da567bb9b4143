//! The text of a `.docx` (the form the document system exports): its main part
//! (`word/document.xml`) paragraph by paragraph, bold runs between `**` as in the plain-text
//! documents (the reader prefers a bold deadline), tabs and breaks as spaces and lines.
//!
//! A hostile file cannot take the server's memory: the main part is read up to
//! [`MAX_XML`] bytes uncompressed, whatever the archive claims.

use std::io::Read as _;

use quick_xml::events::Event;

/// The most of `word/document.xml` read (uncompressed): about 40 times the longest directive.
pub const MAX_XML: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DocxError {
    #[error("tệp không phải .docx (không mở được như tệp zip)")]
    NotZip,
    #[error("tệp .docx không có phần nội dung word/document.xml")]
    NoDocument,
    #[error("nội dung .docx quá lớn (quá {} MB khi giải nén)", MAX_XML / 1024 / 1024)]
    TooLarge,
    #[error("nội dung .docx không đọc được: {0}")]
    Xml(String),
}

/// Whether a run property element turns bold on: `<w:b/>`, `<w:b w:val="1"/>`, not `w:val="0"`.
fn bold_on(e: &quick_xml::events::BytesStart<'_>) -> bool {
    !e.attributes()
        .flatten()
        .any(|a| a.key.as_ref() == b"w:val" && matches!(a.value.as_ref(), b"0" | b"false" | b"off"))
}

/// The document's text: one paragraph a line, a blank line between paragraphs.
pub fn text_of(bytes: &[u8]) -> Result<String, DocxError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| DocxError::NotZip)?;
    let part = zip
        .by_name("word/document.xml")
        .map_err(|_| DocxError::NoDocument)?;
    let mut xml = String::new();
    part.take(MAX_XML + 1)
        .read_to_string(&mut xml)
        .map_err(|e| DocxError::Xml(e.to_string()))?;
    if xml.len() as u64 > MAX_XML {
        return Err(DocxError::TooLarge);
    }
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = String::new();
    // The paragraph's runs: (text, bold).
    let mut runs: Vec<(String, bool)> = Vec::new();
    let (mut in_text, mut in_props, mut bold) = (false, false, false);
    let push = |runs: &mut Vec<(String, bool)>, s: &str, bold: bool| match runs.last_mut() {
        Some((t, b)) if *b == bold => t.push_str(s),
        _ => runs.push((s.to_owned(), bold)),
    };
    loop {
        match reader.read_event().map_err(|e| DocxError::Xml(e.to_string()))? {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"w:r" => bold = false,
            Event::Start(e) if e.name().as_ref() == b"w:rPr" => in_props = true,
            Event::End(e) if e.name().as_ref() == b"w:rPr" => in_props = false,
            Event::Start(e) | Event::Empty(e) if in_props && e.name().as_ref() == b"w:b" => {
                bold = bold_on(&e);
            }
            Event::Start(e) if e.name().as_ref() == b"w:t" => in_text = true,
            Event::End(e) if e.name().as_ref() == b"w:t" => in_text = false,
            Event::Empty(e) if e.name().as_ref() == b"w:tab" => push(&mut runs, " ", bold),
            Event::Empty(e) if matches!(e.name().as_ref(), b"w:br" | b"w:cr") => push(&mut runs, "\n", false),
            Event::Text(t) if in_text => {
                let s = t.decode().map_err(|e| DocxError::Xml(e.to_string()))?;
                push(&mut runs, &s, bold);
            }
            Event::GeneralRef(r) if in_text => {
                let s = match r.resolve_char_ref().map_err(|e| DocxError::Xml(e.to_string()))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| DocxError::Xml(e.to_string()))?;
                        quick_xml::escape::unescape(&format!("&{name};"))
                            .map_err(|e| DocxError::Xml(e.to_string()))?
                            .into_owned()
                    }
                };
                push(&mut runs, &s, bold);
            }
            Event::End(e) if e.name().as_ref() == b"w:p" => {
                for (t, b) in runs.drain(..) {
                    if b && !t.trim().is_empty() {
                        // The marks hug the words, as in the plain-text documents.
                        let lead = &t[..t.len() - t.trim_start().len()];
                        let tail = &t[t.trim_end().len()..];
                        out.push_str(&format!("{lead}**{}**{tail}", t.trim()));
                    } else {
                        out.push_str(&t);
                    }
                }
                out.push_str("\n\n");
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}
