//! A screen's one submit, as a Leptos [`Action`], for every flow of screens (the unlock,
//! the registration): while it runs, `pending()` shows the screen's progress text (ALL-3)
//! and a second press does nothing; each result moves the flow to its next step or shows
//! the problem.

use std::future::Future;

use leptos::prelude::*;

use crate::errors::Problem;

/// A flow of screens: where a step's result goes.
pub(crate) trait Screens: Copy + Send + Sync + 'static {
    type Step: Clone + 'static;

    /// The problem the user can fix on the current screen.
    fn problem(&self) -> RwSignal<Option<Problem>>;

    /// Moves to the next screen.
    fn advance(&self, step: Self::Step);

    /// Shows a problem: on the current screen, or as a page of its own.
    fn fail(&self, problem: Problem);
}

/// One screen's submit: an action whose result is the next step.
pub(crate) struct Submit<S: Screens, I: 'static> {
    action: Action<I, Result<S::Step, Problem>>,
    pending: Memo<bool>,
    screens: S,
    progress: &'static str,
}

impl<S: Screens, I: 'static> Clone for Submit<S, I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: Screens, I: 'static> Copy for Submit<S, I> {}

impl<S: Screens, I: 'static> Submit<S, I> {
    pub(crate) fn new<F, Fu>(screens: S, progress: &'static str, run: F) -> Self
    where
        F: Fn(&I) -> Fu + 'static,
        Fu: Future<Output = Result<S::Step, Problem>> + 'static,
    {
        // gloo-net's futures are not `Send`: a local action, run on the page's thread.
        // Its input (a passcode, say) is dropped as soon as the step has finished.
        let action = Action::new_local(run);
        let result = action.value();
        Effect::new(move |_| match result.get() {
            Some(Ok(step)) => screens.advance(step),
            Some(Err(problem)) => screens.fail(problem),
            None => {}
        });
        Self {
            action,
            pending: action.pending(),
            screens,
            progress,
        }
    }

    /// Runs the step with the input `prepare` gives, unless the step is already running
    /// (a second press does nothing). When `prepare` refuses the input, its problem is
    /// shown as the flow shows every problem (in its words, by its input) and nothing is
    /// sent.
    pub(crate) fn dispatch(&self, prepare: impl FnOnce() -> Result<I, Problem>) {
        if self.pending.get_untracked() {
            return;
        }
        match prepare() {
            Ok(input) => {
                self.screens.problem().set(None);
                self.action.dispatch_local(input);
            }
            Err(problem) => self.screens.fail(problem),
        }
    }

    /// Whether the step is running (reactive).
    pub(crate) fn pending(&self) -> bool {
        self.pending.get()
    }

    /// Whether the step is running, without subscribing.
    pub(crate) fn pending_untracked(&self) -> bool {
        self.pending.get_untracked()
    }

    /// The screen's progress text while the step runs, else nothing (reactive).
    pub(crate) fn progress(&self) -> &'static str {
        if self.pending() {
            self.progress
        } else {
            ""
        }
    }

    /// The live progress line: the screen's progress text while the step runs.
    pub(crate) fn progress_line(self) -> impl IntoView {
        self.status_line("progress")
    }

    /// A live progress line with its own `id`, for a second form on the same page.
    pub(crate) fn status_line(self, id: &'static str) -> impl IntoView {
        view! {
            <p id=id class="app-progress" role="status" aria-live="polite">
                {move || self.progress()}
            </p>
        }
    }
}
