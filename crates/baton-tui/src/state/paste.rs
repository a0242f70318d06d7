//! Long pastes, collapsed: a paste of many lines (or many characters) goes
//! into the editor as one short placeholder, `[pasted 120 lines]`, and the
//! message sent has the pasted text in its place.

/// A paste of more lines than this is collapsed.
pub const COLLAPSE_LINES: usize = 10;
/// A paste of more characters than this is collapsed.
pub const COLLAPSE_CHARS: usize = 1000;

/// One collapsed paste: the placeholder the editor shows and the text it
/// stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paste {
    /// What the editor shows, e.g. `[pasted 120 lines]`; unique among the
    /// pastes of one message.
    pub token: String,
    /// The pasted text.
    pub text: String,
}

/// Whether a paste is long enough to collapse.
pub fn is_long(text: &str) -> bool {
    text.lines().count() > COLLAPSE_LINES || text.chars().count() > COLLAPSE_CHARS
}

/// A placeholder for `text` that none of `taken` is and that `shown` does
/// not hold yet: `[pasted 120 lines]`, then `[pasted 120 lines #2]`…
pub fn token_for(text: &str, taken: &[Paste], shown: &str) -> String {
    let lines = text.lines().count();
    let size = if lines > COLLAPSE_LINES {
        format!("{lines} lines")
    } else {
        format!("{} chars", text.chars().count())
    };
    let free = |t: &str| !shown.contains(t) && taken.iter().all(|p| p.token != t);
    let first = format!("[pasted {size}]");
    if free(&first) {
        return first;
    }
    (2..)
        .map(|n| format!("[pasted {size} #{n}]"))
        .find(|t| free(t))
        .unwrap_or(first)
}

/// `shown` with every placeholder of `pastes` replaced by its text, in one
/// pass (a pasted text that happens to hold a placeholder stays as it is).
pub fn expand(shown: &str, pastes: &[Paste]) -> String {
    let mut out = String::with_capacity(shown.len());
    let mut rest = shown;
    loop {
        let next = pastes
            .iter()
            .filter_map(|p| rest.find(p.token.as_str()).map(|at| (at, p)))
            .min_by_key(|(at, _)| *at);
        match next {
            Some((at, paste)) => {
                out.push_str(&rest[..at]);
                out.push_str(&paste.text);
                rest = &rest[at + paste.token.len()..];
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn only_long_pastes_collapse() {
        assert!(!is_long(&lines(10)));
        assert!(is_long(&lines(11)));
        assert!(!is_long(&"x".repeat(1000)));
        assert!(is_long(&"x".repeat(1001)));
    }

    #[test]
    fn tokens_name_the_size_and_stay_unique() {
        let a = lines(120);
        let first = token_for(&a, &[], "");
        assert_eq!(first, "[pasted 120 lines]");
        let taken = [Paste {
            token: first.clone(),
            text: a.clone(),
        }];
        assert_eq!(token_for(&a, &taken, &first), "[pasted 120 lines #2]");
        assert_eq!(token_for(&"y".repeat(1500), &[], ""), "[pasted 1500 chars]");
    }

    #[test]
    fn expansion_puts_each_paste_in_its_place_once() {
        let pastes = [
            Paste {
                token: "[pasted 2 lines]".into(),
                text: "a\nb".into(),
            },
            Paste {
                token: "[pasted 2 lines #2]".into(),
                text: "[pasted 2 lines]".into(),
            },
        ];
        assert_eq!(
            expand("x [pasted 2 lines #2] y [pasted 2 lines] z", &pastes),
            "x [pasted 2 lines] y a\nb z"
        );
        assert_eq!(expand("nothing here", &pastes), "nothing here");
    }
}
