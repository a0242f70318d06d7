use super::*;
use futures::FutureExt;
use std::pin::pin;

fn dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    (dir, root)
}

#[tokio::test]
async fn a_second_lease_on_a_path_waits_until_the_first_is_dropped() {
    let (_dir, root) = dir();
    let path = root.join("a.txt");
    let tracker = FileTracker::new();

    let first = tracker.lock(&path).await;
    assert_eq!(first.path(), path);
    let mut second = pin!(tracker.lock(&path));
    assert!(second.as_mut().now_or_never().is_none());
    assert!(second.as_mut().now_or_never().is_none());

    drop(first);
    let second = second
        .now_or_never()
        .expect("free once the first lease is gone");
    assert_eq!(second.path(), path);
}

#[tokio::test]
async fn leases_are_granted_in_the_order_they_were_asked_for() {
    let (_dir, root) = dir();
    let path = root.join("a.txt");
    let tracker = FileTracker::new();

    let first = tracker.lock(&path).await;
    let mut second = pin!(tracker.lock(&path));
    let mut third = pin!(tracker.lock(&path));
    assert!(second.as_mut().now_or_never().is_none());
    assert!(third.as_mut().now_or_never().is_none());

    drop(first);
    // The third asks first after the release, but the second queued first.
    assert!(third.as_mut().now_or_never().is_none());
    let second = second.now_or_never().expect("the second is next");
    assert!(third.as_mut().now_or_never().is_none());
    drop(second);
    assert!(third.now_or_never().is_some());
}

#[tokio::test]
async fn different_paths_do_not_block_each_other() {
    let (_dir, root) = dir();
    let tracker = FileTracker::new();
    let _a = tracker.lock(&root.join("a.txt")).await;
    let b = tracker.lock(&root.join("b.txt")).now_or_never();
    assert!(b.is_some());
    assert_eq!(tracker.leased_paths(), 2);
}

#[tokio::test]
async fn dot_dot_and_symbolic_links_lead_to_the_same_lease() {
    let (_dir, root) = dir();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("a.txt"), "x").unwrap();
    std::os::unix::fs::symlink(root.join("a.txt"), root.join("link.txt")).unwrap();
    let tracker = FileTracker::new();

    let held = tracker.lock(&root.join("a.txt")).await;
    for other in ["sub/../a.txt", "link.txt", "./a.txt"] {
        let waiting = tracker.lock(&root.join(other)).now_or_never();
        assert!(waiting.is_none(), "{other} got a lease of its own");
    }
    assert_eq!(tracker.leased_paths(), 1);
    drop(held);

    // A file that does not exist yet gets one key, however it is written.
    let missing = tracker.lock(&root.join("sub/new.txt")).await;
    assert!(
        tracker
            .lock(&root.join("sub/../sub/new.txt"))
            .now_or_never()
            .is_none()
    );
    assert_eq!(missing.path(), root.join("sub/new.txt"));
}

#[tokio::test]
async fn paths_nobody_holds_or_waits_for_are_forgotten() {
    let (_dir, root) = dir();
    let path = root.join("a.txt");
    let tracker = FileTracker::new();
    assert_eq!(tracker.leased_paths(), 0);

    let first = tracker.lock(&path).await;
    let mut waiter = Box::pin(tracker.lock(&path));
    assert!(waiter.as_mut().now_or_never().is_none());
    assert_eq!(tracker.leased_paths(), 1);

    // A waiter that gives up leaves the slot to the holder...
    drop(waiter);
    assert_eq!(tracker.leased_paths(), 1);
    // ...and the slot goes with the last lease.
    drop(first);
    assert_eq!(tracker.leased_paths(), 0);

    // Many paths, one after another: nothing accumulates.
    for i in 0..100 {
        let lease = tracker.lock(&root.join(format!("f{i}"))).await;
        drop(lease);
    }
    assert_eq!(tracker.leased_paths(), 0);

    // A waiter dropped after the lease was released to it (but before it
    // was polled again) does not leave anything behind either.
    let first = tracker.lock(&path).await;
    let mut waiter = Box::pin(tracker.lock(&path));
    assert!(waiter.as_mut().now_or_never().is_none());
    drop(first);
    drop(waiter);
    assert_eq!(tracker.leased_paths(), 0);
    assert!(tracker.lock(&path).now_or_never().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leased_read_modify_write_cycles_lose_no_update() {
    let (_dir, root) = dir();
    let path = root.join("counter");
    std::fs::write(&path, "0").unwrap();
    let tracker = FileTracker::new();
    let order = Arc::new(Mutex::new(Vec::new()));

    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let (tracker, path, order) = (tracker.clone(), path.clone(), order.clone());
            tokio::spawn(async move {
                for _ in 0..10 {
                    let _lease = tracker.lock(&path).await;
                    order.lock().unwrap().push((task, "start"));
                    let n: u32 = std::fs::read_to_string(&path).unwrap().parse().unwrap();
                    tokio::task::yield_now().await;
                    std::fs::write(&path, (n + 1).to_string()).unwrap();
                    order.lock().unwrap().push((task, "end"));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(std::fs::read_to_string(&path).unwrap(), "160");
    // Every cycle ran alone: each start is followed by its own end.
    let order = order.lock().unwrap();
    assert_eq!(order.len(), 320);
    for pair in order.chunks(2) {
        assert_eq!(pair[0].0, pair[1].0, "{pair:?}");
        assert_eq!((pair[0].1, pair[1].1), ("start", "end"));
    }
    assert_eq!(tracker.leased_paths(), 0);
}

#[test]
fn creating_a_file_needs_no_read() {
    let (_dir, root) = dir();
    let tracker = FileTracker::new();
    tracker
        .check_fresh("s", &root.join("new.txt"), None)
        .unwrap();
}

#[test]
fn an_unread_file_may_not_be_changed() {
    let (_dir, root) = dir();
    let path = root.join("a.txt");
    std::fs::write(&path, "x").unwrap();
    let tracker = FileTracker::new();
    let err = tracker.check_fresh("s", &path, Some(b"x")).unwrap_err();
    assert!(
        matches!(
            err,
            ToolError::StaleFile {
                reason: StaleReason::NotRead,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("has not been read in this session"), "{text}");
    assert!(text.contains("`read` on it first"), "{text}");

    // What another session saw does not count.
    tracker.saw("other", &path, b"x");
    assert!(tracker.check_fresh("s", &path, Some(b"x")).is_err());
}

#[test]
fn a_file_is_fresh_while_it_has_the_content_the_session_saw() {
    let (_dir, root) = dir();
    let path = root.join("a.txt");
    std::fs::write(&path, "one").unwrap();
    let tracker = FileTracker::new();
    tracker.saw("s", &path, b"one");
    tracker.check_fresh("s", &path, Some(b"one")).unwrap();

    let err = tracker.check_fresh("s", &path, Some(b"two")).unwrap_err();
    assert!(
        matches!(
            err,
            ToolError::StaleFile {
                reason: StaleReason::Changed,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("changed since you last read it"), "{text}");
    assert!(text.contains("another agent or a command"), "{text}");
    assert!(text.contains("`read` it again"), "{text}");

    // The latest sighting counts.
    tracker.saw("s", &path, b"two");
    tracker.check_fresh("s", &path, Some(b"two")).unwrap();
    assert!(tracker.check_fresh("s", &path, Some(b"one")).is_err());
}

#[test]
fn sightings_through_links_and_dot_dot_count_for_the_real_file() {
    let (_dir, root) = dir();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("a.txt"), "x").unwrap();
    std::os::unix::fs::symlink(root.join("a.txt"), root.join("link.txt")).unwrap();
    let tracker = FileTracker::new();
    tracker.saw("s", &root.join("link.txt"), b"x");
    tracker
        .check_fresh("s", &root.join("sub/../a.txt"), Some(b"x"))
        .unwrap();
    assert_eq!(
        FileTracker::key_of(&root.join("link.txt")),
        root.join("a.txt")
    );
}

#[test]
fn a_forgotten_session_must_read_again() {
    let (_dir, root) = dir();
    let path = root.join("a.txt");
    std::fs::write(&path, "x").unwrap();
    let tracker = FileTracker::new();
    tracker.saw("s", &path, b"x");
    tracker.saw("t", &path, b"x");
    tracker.forget_session("s");
    assert!(matches!(
        tracker.check_fresh("s", &path, Some(b"x")),
        Err(ToolError::StaleFile {
            reason: StaleReason::NotRead,
            ..
        })
    ));
    tracker.check_fresh("t", &path, Some(b"x")).unwrap();
}
