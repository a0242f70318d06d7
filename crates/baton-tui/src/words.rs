//! Counted words, so every count on screen reads right for 0, 1 and many:
//! "1 tool call", "2 tool calls", "no sessions working".

/// `n` and the word for it: `plural(1, "line", "lines")` is `"1 line"`,
/// `plural(0, "line", "lines")` is `"0 lines"`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Like [`plural`], but none reads "no": `"no tasks"`, `"1 task"`,
/// `"3 tasks"`.
pub fn count_or_no(n: usize, one: &str, many: &str) -> String {
    if n == 0 {
        format!("no {many}")
    } else {
        plural(n, one, many)
    }
}

/// Items joined the way a sentence lists them: `"a"`, `"a and b"`,
/// `"a, b and c"`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Background work counted: `"1 task and 2 shells"`, `"3 tasks"`,
/// `"1 shell"`, `"no tasks or shells"`.
pub fn tasks_and_shells(tasks: usize, shells: usize) -> String {
    let parts: Vec<String> = [(tasks, "task", "tasks"), (shells, "shell", "shells")]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| plural(n, one, many))
        .collect();
    if parts.is_empty() {
        "no tasks or shells".to_owned()
    } else {
        and_list(&parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_reads_right_for_zero_one_and_many() {
        assert_eq!(plural(0, "tool call", "tool calls"), "0 tool calls");
        assert_eq!(plural(1, "tool call", "tool calls"), "1 tool call");
        assert_eq!(plural(2, "tool call", "tool calls"), "2 tool calls");
        assert_eq!(plural(1, "match", "matches"), "1 match");
    }

    #[test]
    fn count_or_no_says_no_for_zero() {
        assert_eq!(count_or_no(0, "session", "sessions"), "no sessions");
        assert_eq!(count_or_no(1, "session", "sessions"), "1 session");
        assert_eq!(count_or_no(5, "session", "sessions"), "5 sessions");
    }

    #[test]
    fn background_work_names_only_what_there_is() {
        assert_eq!(tasks_and_shells(0, 0), "no tasks or shells");
        assert_eq!(tasks_and_shells(1, 0), "1 task");
        assert_eq!(tasks_and_shells(0, 2), "2 shells");
        assert_eq!(tasks_and_shells(3, 1), "3 tasks and 1 shell");
    }

    #[test]
    fn lists_join_with_commas_and_and() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(and_list(&s(&[])), "");
        assert_eq!(and_list(&s(&["a"])), "a");
        assert_eq!(and_list(&s(&["a", "b"])), "a and b");
        assert_eq!(and_list(&s(&["a", "b", "c"])), "a, b and c");
    }
}
