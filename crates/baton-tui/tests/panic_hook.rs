//! The panic hook the UI runs under (its own test binary: the hook is the
//! process's). A panic in the UI's future restores the terminal and ends
//! the future with a one-line summary; a panic elsewhere leaves the
//! terminal alone, is reported, and the UI goes on; nothing reaches the
//! previous hook (stderr) meanwhile, and the previous hook is back after.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_tui::panics::PanicHook;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_are_kept_off_the_screen_and_only_the_uis_own_ends_it() {
    // Stands for the default hook, which would print over the screen.
    let printed = Arc::new(AtomicUsize::new(0));
    let counter = printed.clone();
    std::panic::set_hook(Box::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));

    let restored = Arc::new(AtomicUsize::new(0));
    let restores = restored.clone();
    let (hook, mut reports) = PanicHook::install(move || {
        restores.fetch_add(1, Ordering::SeqCst);
    });

    // A panic in a task the UI started: isolated, reported, the UI goes on.
    let outcome = hook
        .run_ui(async {
            let task = tokio::spawn(async { panic!("background boom") });
            assert!(task.await.unwrap_err().is_panic());
            let report = reports.recv().await.unwrap();
            // And one on a thread of its own.
            std::thread::spawn(|| panic!("thread\nboom"))
                .join()
                .unwrap_err();
            let second = reports.recv().await.unwrap();
            (report, second, 42)
        })
        .await;
    let (report, second, answer) = outcome.unwrap();
    assert_eq!(answer, 42, "the UI went on to the end");
    assert!(report.starts_with("background boom ("), "{report}");
    assert!(report.contains("panic_hook.rs:"), "{report}");
    assert!(second.starts_with("thread boom ("), "one line: {second}");
    assert_eq!(
        restored.load(Ordering::SeqCst),
        0,
        "the terminal was left alone"
    );

    // A panic in the UI itself: the terminal is restored, the UI ends
    // with the summary.
    let ended = hook
        .run_ui(async {
            tokio::task::yield_now().await;
            if restored.load(Ordering::SeqCst) == 0 {
                panic!("ui boom: {}", "formatted");
            }
        })
        .await;
    let summary = ended.unwrap_err();
    assert!(summary.starts_with("ui boom: formatted ("), "{summary}");
    assert!(summary.contains("panic_hook.rs:"), "{summary}");
    assert_eq!(restored.load(Ordering::SeqCst), 1, "restored once, first");
    assert_eq!(printed.load(Ordering::SeqCst), 0, "nothing was printed");

    // Once the UI is gone, panics reach the previous hook again.
    drop(hook);
    std::thread::spawn(|| panic!("after")).join().unwrap_err();
    assert_eq!(printed.load(Ordering::SeqCst), 1);
    assert_eq!(restored.load(Ordering::SeqCst), 1);
}
