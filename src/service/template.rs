//! Message templates: text with named placeholders such as `{shifts}`, checked once at config
//! load against the placeholders each message knows, so a typo (`{shift}`) stops the program
//! at start instead of reaching an employee's phone.
//!
//! Syntax: `{name}` is a placeholder; `{{` and `}}` are a literal brace. Nothing else is
//! special.

use std::fmt;

/// Every placeholder any message can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placeholder {
    /// The campaign's shifts (broadcast) or the listed shifts (REQUEST).
    Shifts,
    /// The `agent_hint` text when agents are configured, nothing otherwise.
    AgentHint,
    /// The booking summary's sections, joined.
    Summary,
    /// How many codes a booking section names.
    Count,
    /// The codes a booking section names, comma separated.
    Codes,
    /// One listed shift's code.
    Code,
    /// One listed shift's `shift_info`.
    Info,
    /// This page's number.
    Page,
    /// How many pages.
    Pages,
    /// The next page's number.
    Next,
    /// An employee's name (callbacks).
    Name,
    /// An employee's phone number (callbacks).
    Phone,
    /// What an employee asked an agent for: the text after AGENT.
    Request,
    /// When agents can be phoned again, in the site's local time ("Mon 08:00").
    When,
}

impl Placeholder {
    pub const ALL: [Placeholder; 14] = [
        Placeholder::Shifts,
        Placeholder::AgentHint,
        Placeholder::Summary,
        Placeholder::Count,
        Placeholder::Codes,
        Placeholder::Code,
        Placeholder::Info,
        Placeholder::Page,
        Placeholder::Pages,
        Placeholder::Next,
        Placeholder::Name,
        Placeholder::Phone,
        Placeholder::Request,
        Placeholder::When,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Shifts => "shifts",
            Placeholder::AgentHint => "agent_hint",
            Placeholder::Summary => "summary",
            Placeholder::Count => "count",
            Placeholder::Codes => "codes",
            Placeholder::Code => "code",
            Placeholder::Info => "info",
            Placeholder::Page => "page",
            Placeholder::Pages => "pages",
            Placeholder::Next => "next",
            Placeholder::Name => "name",
            Placeholder::Phone => "phone",
            Placeholder::Request => "request",
            Placeholder::When => "when",
        }
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(Placeholder),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

/// What is wrong with a template. Positions count characters from 1, as an editor does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{{{name}}} at character {at} is not a placeholder this text knows; {}", allowed_list(.allowed))]
    UnknownPlaceholder {
        name: String,
        at: usize,
        allowed: Vec<Placeholder>,
    },
    #[error("the {{ at character {at} is not closed (write {{{{ for a literal brace)")]
    Unclosed { at: usize },
    #[error("the }} at character {at} closes nothing (write }}}} for a literal brace)")]
    StrayClose { at: usize },
    #[error("it must contain {0}")]
    Missing(Placeholder),
}

fn allowed_list(allowed: &[Placeholder]) -> String {
    if allowed.is_empty() {
        return "it takes no placeholders".to_string();
    }
    let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    format!("it may use {}", names.join(", "))
}

impl Template {
    /// Check `source` against the placeholders this message may use and must use.
    pub fn parse(
        source: &str,
        allowed: &[Placeholder],
        required: &[Placeholder],
    ) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.next_if(|&(_, c)| c == '{').is_some() => text.push('{'),
                '}' if chars.next_if(|&(_, c)| c == '}').is_some() => text.push('}'),
                '}' => return Err(TemplateError::StrayClose { at: i + 1 }),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some((_, '}')) => break,
                            Some((_, '{')) | None => {
                                return Err(TemplateError::Unclosed { at: i + 1 });
                            }
                            Some((_, c)) => name.push(c),
                        }
                    }
                    let found = allowed.iter().find(|p| p.name() == name.trim());
                    let Some(&placeholder) = found else {
                        return Err(TemplateError::UnknownPlaceholder {
                            name,
                            at: i + 1,
                            allowed: allowed.to_vec(),
                        });
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Slot(placeholder));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let template = Template {
            source: source.to_string(),
            pieces,
        };
        match required.iter().find(|&&p| !template.uses(p)) {
            Some(&missing) => Err(TemplateError::Missing(missing)),
            None => Ok(template),
        }
    }

    /// The template as written in the config.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders to nothing at all.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    pub fn uses(&self, placeholder: Placeholder) -> bool {
        self.pieces.contains(&Piece::Slot(placeholder))
    }

    /// The literal text, without placeholders (what the GSM alphabet check looks at).
    pub fn literal_text(&self) -> String {
        self.pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text) => Some(text.as_str()),
                Piece::Slot(_) => None,
            })
            .collect()
    }

    /// Fill the placeholders from `values`; one missing from `values` renders as nothing.
    pub fn render(&self, values: &[(Placeholder, &str)]) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Slot(p) => {
                    if let Some((_, value)) = values.iter().find(|(name, _)| name == p) {
                        out.push_str(value);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Placeholder::*;

    #[test]
    fn renders() {
        let t = Template::parse("Booked ({count}): {codes}.", &[Count, Codes], &[Codes]).unwrap();
        assert_eq!(
            t.render(&[(Codes, "A1, B2"), (Count, "2")]),
            "Booked (2): A1, B2."
        );
        assert_eq!(t.literal_text(), "Booked (): .");
        let braces = Template::parse("{{x}} {shifts}}}", &[Shifts], &[]).unwrap();
        assert_eq!(braces.render(&[(Shifts, "S")]), "{x} S}");
        let spaced = Template::parse("{ shifts }", &[Shifts], &[]).unwrap();
        assert_eq!(spaced.render(&[(Shifts, "S")]), "S");
        let empty = Template::parse("", &[], &[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.render(&[]), "");
        let unicode = Template::parse("Zoë {code}", &[Code], &[]).unwrap();
        assert_eq!(unicode.render(&[(Code, "A1")]), "Zoë A1");
    }

    #[test]
    fn mistakes() {
        let cases = [
            (
                "Shifts: {shift}",
                TemplateError::UnknownPlaceholder {
                    name: "shift".into(),
                    at: 9,
                    allowed: vec![Shifts],
                },
            ),
            (
                "é{codes}",
                TemplateError::UnknownPlaceholder {
                    name: "codes".into(),
                    at: 2,
                    allowed: vec![Shifts],
                },
            ),
            ("Shifts: {shifts", TemplateError::Unclosed { at: 9 }),
            ("Shifts: {sh{ifts}", TemplateError::Unclosed { at: 9 }),
            ("Shifts} {shifts}", TemplateError::StrayClose { at: 7 }),
            ("No shifts here", TemplateError::Missing(Shifts)),
        ];
        for (source, want) in cases {
            assert_eq!(
                Template::parse(source, &[Shifts], &[Shifts]),
                Err(want),
                "{source:?}"
            );
        }
        let err = Template::parse("{x}", &[Shifts, Next], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "{x} at character 1 is not a placeholder this text knows; it may use {shifts}, {next}"
        );
        let err = Template::parse("{x}", &[], &[]).unwrap_err();
        assert!(
            err.to_string().ends_with("it takes no placeholders"),
            "{err}"
        );
    }
}
