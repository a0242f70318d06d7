//! The terminal side: raw mode and the alternate screen (restored on exit
//! and on panic), and the loop that feeds keys, engine events and effect
//! outcomes into the state and draws it, only when something changed: at
//! once after a key, and at most about 30 frames a second for what the
//! engine streams. While it runs, panics stay off the screen
//! ([`crate::panics`]): one in the loop ends the UI with
//! [`TuiError::Panicked`], one elsewhere is shown as an error toast.

mod effects;
mod terminal;

use crate::TuiError;
use crate::effect::{Effect, Outcome};
use crate::panics::PanicHook;
use crate::state::{App, Level, Setup};
use crate::view::{self, Cache};
use baton_client::{Client, EventsFrom, StreamItem};
use baton_protocol::SessionId;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The shortest time between two frames (about 30 a second).
const FRAME: Duration = Duration::from_millis(33);
/// How often spinners move and toasts expire.
const TICK: Duration = Duration::from_millis(120);
/// How often open panels refresh what they show (a shell's output).
const REFRESH: Duration = Duration::from_millis(500);

/// What a copy toast says.
fn copied(text: &str) -> String {
    let lines = text.lines().count().max(1);
    if lines == 1 {
        format!("copied {} characters", text.chars().count())
    } else {
        format!("copied {lines} lines")
    }
}

/// How to start the UI.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// Working directory, agent and model of new sessions; local or remote.
    pub setup: Setup,
    /// A session to open (its whole tree); `None` starts a new one.
    pub open: Option<SessionId>,
    /// A note shown as a toast at start (e.g. "no earlier session here").
    pub notice: Option<String>,
    /// With no session to open: start one with this first message (the
    /// demo), as if the person had typed it.
    pub first_message: Option<String>,
}

/// Runs the UI until the person quits. The client is closed at the end
/// (an in-process engine cancels its work and stops cleanly). A panic in
/// the UI restores the terminal and ends it with [`TuiError::Panicked`].
pub async fn run(client: Arc<dyn Client>, options: TuiOptions) -> Result<(), TuiError> {
    let (hook, panics) = PanicHook::install(terminal::restore);
    match hook.run_ui(ui(client.clone(), options, panics)).await {
        Ok(outcome) => outcome,
        Err(panic) => {
            client.close().await;
            Err(TuiError::Panicked(panic))
        }
    }
}

/// The UI's loop; `panics` says what panicked outside it.
async fn ui(
    client: Arc<dyn Client>,
    options: TuiOptions,
    mut panics: mpsc::UnboundedReceiver<String>,
) -> Result<(), TuiError> {
    let mut events = client
        .events(EventsFrom::default())
        .await
        .map_err(TuiError::Client)?;
    let started = terminal::Guard::enter().and_then(|guard| {
        let term = guard.terminal()?;
        Ok((guard, term))
    });
    let (guard, mut term) = match started {
        Ok(started) => started,
        Err(e) => {
            client.close().await;
            return Err(e);
        }
    };
    let mut app = App::new(options.setup);
    let now = Instant::now();
    if let Some(note) = options.notice {
        app.toast(Level::Info, note, now);
    }
    let (ordered_tx, ordered_rx) = mpsc::unbounded_channel::<Effect>();
    let (outcome_tx, mut outcomes) = mpsc::unbounded_channel::<Outcome>();
    let lane = tokio::spawn(ordered_lane(
        client.clone(),
        app.setup.cwd.clone(),
        ordered_rx,
        outcome_tx.clone(),
    ));
    let cwd = app.setup.cwd.clone();
    let dispatch = |effects: Vec<Effect>| {
        for effect in effects {
            if effects::is_ordered(&effect) {
                let _ = ordered_tx.send(effect);
            } else {
                let client = client.clone();
                let tx = outcome_tx.clone();
                let dir = cwd.clone();
                tokio::spawn(async move {
                    let _ = tx.send(effects::guarded(client.as_ref(), &dir, effect).await);
                });
            }
        }
    };
    // The stream carries every event until a tree is on screen; then only
    // that tree's (the server filters it), from before the tree is loaded.
    let mut following: Option<SessionId> = None;
    if let Some(id) = options.open {
        let effects = vec![app.load_tree(id)];
        follow_tree(client.as_ref(), &mut events, &mut following, &effects, None).await;
        dispatch(effects);
    } else if let Some(text) = options.first_message {
        app.creating = true;
        dispatch(vec![Effect::CreateSession {
            agent: app.setup.agent.clone(),
            model: app.setup.model.clone(),
            first_message: Some(text),
        }]);
    }
    let mut keys = EventStream::new();
    let mut cache = Cache::default();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut refresh = tokio::time::interval(REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_draw: Option<Instant> = None;
    let mut stream_open = true;
    let mut mouse_on = true;
    // Whatever ends the loop, the terminal is restored and the client
    // closed (an in-process engine stops its work cleanly).
    let mut outcome: Result<(), TuiError> = Ok(());
    loop {
        let next_frame = last_draw.map_or_else(Instant::now, |t| t + FRAME);
        // What the person did shows at once; what the engine streams is
        // drawn at most once a frame.
        let mut urgent = false;
        tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) => {
                    urgent = true;
                    let effects = app.on_key(key, Instant::now());
                    follow_tree(client.as_ref(), &mut events, &mut following, &effects, None).await;
                    dispatch(effects);
                }
                Some(Ok(TermEvent::Paste(text))) => {
                    urgent = true;
                    app.on_paste(&text);
                }
                Some(Ok(TermEvent::Mouse(mouse))) => {
                    urgent = true;
                    let effects = app.on_mouse(mouse);
                    follow_tree(client.as_ref(), &mut events, &mut following, &effects, None).await;
                    dispatch(effects);
                }
                Some(Ok(TermEvent::Resize(..))) => {
                    urgent = true;
                    app.dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    outcome = Err(TuiError::Terminal(e));
                    break;
                }
                None => break,
            },
            item = events.next(), if stream_open => match item {
                Some(Ok(StreamItem::Event(event))) => app.on_event(&event, Instant::now()),
                Some(Ok(StreamItem::Resync(_))) => {
                    if let Some(root) = app.root.clone() {
                        dispatch(vec![app.load_tree(root)]);
                    }
                }
                Some(Err(e)) => app.toast(Level::Error, format!("event stream: {e}"), Instant::now()),
                None => {
                    stream_open = false;
                    app.toast(Level::Error, "the engine's event stream ended", Instant::now());
                }
            },
            Some(outcome) = outcomes.recv() => {
                let follow = app.on_outcome(outcome, Instant::now());
                let root = app.root.clone();
                follow_tree(client.as_ref(), &mut events, &mut following, &follow, root).await;
                dispatch(follow);
            }
            Some(panic) = panics.recv() => app.toast(
                Level::Error,
                format!("internal error (details in the log): {panic}"),
                Instant::now(),
            ),
            _ = tick.tick() => app.tick(Instant::now()),
            _ = refresh.tick() => dispatch(app.periodic()),
            _ = tokio::time::sleep_until(next_frame.into()), if app.dirty => {}
        }
        if app.quit {
            break;
        }
        if app.mouse_capture != mouse_on {
            mouse_on = app.mouse_capture;
            if let Err(e) = terminal::set_mouse(mouse_on) {
                tracing::warn!("cannot switch mouse capture: {e}");
            }
        }
        if let Some(text) = app.clipboard.take() {
            match terminal::copy(&text) {
                Ok(()) => app.toast(Level::Info, copied(&text), Instant::now()),
                Err(e) => app.toast(Level::Error, format!("cannot copy: {e}"), Instant::now()),
            }
        }
        let now = Instant::now();
        if app.dirty && (urgent || last_draw.is_none_or(|t| now >= t + FRAME)) {
            app.dirty = false;
            if let Err(e) =
                term.draw(|frame| view::draw(frame, &mut app, &mut cache, chrono::Utc::now()))
            {
                outcome = Err(TuiError::Terminal(e));
                break;
            }
            last_draw = Some(now);
        }
    }
    drop(term);
    drop(guard);
    lane.abort();
    client.close().await;
    outcome
}

/// Points the event stream at the tree about to be shown (one a batch of
/// effects loads, else `shown`), if it follows another: subscribed before
/// the tree is loaded, so nothing that happens after the load is missed.
async fn follow_tree(
    client: &dyn Client,
    events: &mut baton_client::EventStream,
    following: &mut Option<SessionId>,
    effects: &[Effect],
    shown: Option<SessionId>,
) {
    let target = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTree(root) => Some(root.clone()),
            _ => None,
        })
        .or(shown);
    let Some(root) = target else { return };
    if following.as_ref() == Some(&root) {
        return;
    }
    match client
        .events(EventsFrom {
            session: Some(root.clone()),
            after: None,
        })
        .await
    {
        Ok(stream) => {
            *events = stream;
            *following = Some(root);
        }
        // The stream it has goes on; the filter is only narrower.
        Err(e) => tracing::warn!("cannot follow the tree's events: {e}"),
    }
}

/// Runs changing effects one at a time, in order.
async fn ordered_lane(
    client: Arc<dyn Client>,
    cwd: std::path::PathBuf,
    mut effects: mpsc::UnboundedReceiver<Effect>,
    outcomes: mpsc::UnboundedSender<Outcome>,
) {
    while let Some(effect) = effects.recv().await {
        let outcome = effects::guarded(client.as_ref(), &cwd, effect).await;
        if outcomes.send(outcome).is_err() {
            break;
        }
    }
}
