//! `write` stores any text byte for byte, reports its size and lines, and
//! what `read` then shows of it is the model's view of that text.

use super::read::{check_read, model_read, read};
use super::{block_on, config, text};
use crate::Tool;
use crate::test_support::TestContext;
use crate::tools::WriteTool;
use proptest::prelude::*;
use serde_json::json;

fn write(ctx: &TestContext, content: &str) -> String {
    block_on(WriteTool.call(json!({"path": "a.txt", "content": content}), ctx)).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn write_stores_any_text_exactly(first in text(), second in text()) {
        let ctx = TestContext::new();
        for (content, what) in [(&first, "new file"), (&second, "replaced the existing file")] {
            let lines = content.lines().count();
            let plural = if lines == 1 { "" } else { "s" };
            prop_assert_eq!(
                write(&ctx, content),
                format!("Wrote {} bytes ({lines} line{plural}) to a.txt ({what})", content.len())
            );
            prop_assert_eq!(&std::fs::read(ctx.root.join("a.txt")).unwrap(), content.as_bytes());
            check_read(read(&ctx, 1, 2000), model_read(content, 1, 2000))?;
        }
    }
}
