//! The lesson player: a panel beside the lab with the course's lessons, the current step's
//! narration, the lesson's own commands as console lines, tasks with hints and a tick when
//! done, predictions answered before the lab shows the truth, waits, and Back / Next.
//!
//! It draws a [`StepView`] and reports clicks; what a step means is decided by the core's
//! lesson session (through [`crate::lessons::LessonRun`]). Progress is kept in the browser's
//! `localStorage` by the helpers at the end.

use leptos::prelude::*;

use crate::lessons::{
    title_of, PartView, PredictionView, ProofState, Reveal, Saved, StepView, WaitState, CURRENT_KEY, LESSONS,
};
use crate::markdown::{Block, Span};

/// The panel. `picked` is the lesson being played; the callbacks receive a lesson's index in
/// [`LESSONS`], a step's index, and `(part, choice)` for an answer.
#[component]
pub fn LessonPanel(
    /// The current step, as the player shows it.
    view: Memo<Option<StepView>>,
    /// The index of the lesson being played.
    picked: Signal<Option<usize>>,
    /// Why the last lesson action failed, if it did.
    error: Signal<Option<String>>,
    on_pick: Callback<usize>,
    on_step: Callback<usize>,
    on_answer: Callback<(usize, usize)>,
) -> impl IntoView {
    let parts = move || {
        view.with(|v| {
            v.as_ref()
                .map_or_else(Vec::new, |v| v.parts.iter().map(|(index, part)| (v.step, *index, part.clone())).collect())
        })
    };
    let step_of = move || view.with(|v| v.as_ref().map(|v| (v.step, v.steps, v.complete, v.finished)));
    view! {
        <aside class="lesson" data-testid="lesson" aria-labelledby="lesson-heading">
            <label class="lesson-picker">
                <span>"Lesson"</span>
                <select data-testid="lesson-picker" aria-label="Choose a lesson" on:change=move |ev| {
                    if let Ok(index) = event_target_value(&ev).parse() { on_pick.run(index) }
                }>
                    {LESSONS.iter().enumerate().map(|(index, lesson)| view! {
                        <option value=index.to_string() selected=move || picked.get() == Some(index)>
                            {format!("{}. {}", index + 1, title_of(lesson.text))}
                        </option>
                    }).collect_view()}
                </select>
            </label>
            <p class="error" data-testid="lesson-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            <header class="lesson-head">
                <h2 id="lesson-heading">{move || view.with(|v| v.as_ref().map(|v| v.lesson_title.clone()))}</h2>
                <p class="lesson-step-count" data-testid="lesson-step">
                    {move || step_of().map(|(step, steps, _, _)| format!("Step {} of {}", step + 1, steps))}
                </p>
                <progress max=move || step_of().map_or(1, |s| s.1) value=move || step_of().map_or(0, |s| s.0 + usize::from(s.2))
                          aria-label="steps done" />
                <h3 data-testid="lesson-step-title">{move || view.with(|v| v.as_ref().map(|v| v.step_title.clone()))}</h3>
            </header>
            <div class="lesson-body">
                {move || view.with(|v| v.as_ref().map(|v| (v.step, v.introduction.clone())))
                    .filter(|(_, intro)| !intro.is_empty())
                    .map(|(_, intro)| view! { <div class="lesson-intro">{render_blocks(&intro)}</div> })}
                // Keyed by the part's whole picture: a part that did not change keeps its elements
                // (and the learner's focus and shown hints) while the clock runs.
                <For each=parts key=|item| item.clone() let((_, index, part))>
                    <PartCard index=index part=part on_answer=on_answer />
                </For>
            </div>
            <nav class="lesson-nav" aria-label="lesson steps">
                <button data-testid="lesson-back" disabled=move || step_of().is_none_or(|(step, ..)| step == 0)
                        on:click=move |_| if let Some((step, ..)) = step_of() { on_step.run(step.saturating_sub(1)) }>
                    "← Back"
                </button>
                {move || match step_of() {
                    Some((step, steps, complete, _)) if step + 1 < steps => view! {
                        <button data-testid="lesson-next" class:primary=complete
                                title=if complete { "Go to the next step" } else { "Skip: the lab does the rest of this step for you" }
                                on:click=move |_| on_step.run(step + 1)>
                            {if complete { "Next →" } else { "Skip →" }}
                        </button>
                    }.into_any(),
                    Some((_, _, _, true)) => view! {
                        <span class="lesson-done" data-testid="lesson-complete">"✓ Lesson complete"</span>
                        {picked.get().filter(|i| i + 1 < LESSONS.len()).map(|i| view! {
                            <button data-testid="next-lesson" class="primary" on:click=move |_| on_pick.run(i + 1)>"Next lesson →"</button>
                        })}
                    }.into_any(),
                    _ => view! { <span class="lesson-hint">"Finish the step to complete the lesson"</span> }.into_any(),
                }}
            </nav>
        </aside>
    }
}

/// One part of the step the learner has reached.
#[component]
fn PartCard(index: usize, part: PartView, on_answer: Callback<(usize, usize)>) -> impl IntoView {
    match part {
        PartView::Narration(blocks) => view! { <div class="narration">{render_blocks(&blocks)}</div> }.into_any(),
        PartView::Actions { commands, refused } => view! {
            <div class="lesson-actions" data-testid="lesson-actions">
                <span class="label">"The lab runs"</span>
                {commands.into_iter().map(|c| view! { <code class="console-line">{c}</code> }).collect_view()}
                {refused.map(|why| view! { <p class="error">{format!("Refused: {why}")}</p> })}
            </div>
        }
        .into_any(),
        PartView::Task { goal, hints, done } => view! { <TaskCard goal=goal hints=hints done=done /> }.into_any(),
        PartView::Prediction(prediction) => {
            view! { <PredictionCard index=index prediction=prediction on_answer=on_answer /> }.into_any()
        }
        PartView::Wait { until, state } => {
            let (class, text) = match state {
                WaitState::Waiting => ("waiting", format!("Waiting for: {until}")),
                WaitState::Satisfied { after_ms } => {
                    ("satisfied", format!("✓ {until} (after {:.1} s)", after_ms as f64 / 1000.0))
                }
                WaitState::TimedOut(why) => ("timed-out", format!("Gave up waiting: {why}")),
            };
            view! {
                <p class=format!("wait {class}") data-testid="wait" data-state=class role="status">
                    {if class == "waiting" { view! { <span class="spinner" aria-hidden="true"></span> }.into_any() } else { ().into_any() }}
                    {text}
                </p>
            }
            .into_any()
        }
    }
}

/// A task: the goal, hints one at a time, and a tick once the lab shows it done.
#[component]
fn TaskCard(goal: String, hints: Vec<String>, done: bool) -> impl IntoView {
    let shown = RwSignal::new(0usize);
    let total = hints.len();
    view! {
        <article class="task" class:done=done data-testid="task" data-done=done.to_string()>
            <header>
                <span class="badge">{if done { "✓ Done" } else { "Your turn" }}</span>
            </header>
            <p class="goal">{goal}</p>
            <ul class="hints">
                {move || hints.iter().take(shown.get()).map(|h| view! { <li>{h.clone()}</li> }).collect_view()}
            </ul>
            {(!done && total > 0).then(|| view! {
                <button data-testid="hint" disabled=move || { shown.get() >= total }
                        on:click=move |_| shown.update(|n| *n = (*n + 1).min(total))>
                    {move || if shown.get() == 0 { "Hint" } else if shown.get() < total { "Another hint" } else { "No more hints" }}
                </button>
            })}
        </article>
    }
}

/// A prediction: the question and its choices; once answered, right or wrong, the explanation,
/// and what the lab shows at the end of the step.
#[component]
fn PredictionCard(index: usize, prediction: PredictionView, on_answer: Callback<(usize, usize)>) -> impl IntoView {
    let PredictionView { question, choices, chosen, revealed } = prediction;
    let answered = chosen.is_some();
    let answer = revealed.as_ref().map(|r| r.answer);
    let buttons = choices
        .iter()
        .enumerate()
        .map(|(choice, text)| {
            let class = match (chosen == Some(choice), answer == Some(choice)) {
                (_, true) => "choice right",
                (true, false) => "choice wrong",
                _ => "choice",
            };
            view! {
                <li>
                    <button class=class data-choice=choice disabled=answered aria-pressed=(chosen == Some(choice)).to_string()
                            on:click=move |_| on_answer.run((index, choice))>
                        {text.clone()}
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <article class="prediction" data-testid="prediction" data-answered=answered.to_string()>
            <header><span class="badge">"Predict"</span></header>
            <p class="question">{question}</p>
            <ul class="choices">{buttons}</ul>
            <div aria-live="polite">{revealed.map(|reveal| reveal_view(reveal, &choices))}</div>
        </article>
    }
}

fn reveal_view(reveal: Reveal, choices: &[String]) -> impl IntoView {
    let Reveal { answer, right, explanation, proofs, proof } = reveal;
    let verdict = if right {
        String::from("✓ Right.")
    } else {
        format!("✗ Not quite: the answer is “{}”.", choices.get(answer).cloned().unwrap_or_default())
    };
    let (proof_class, proof_text) = match proof {
        ProofState::Pending => ("pending", String::from("The lab checks this when the step is over:")),
        ProofState::Holds => ("holds", String::from("The lab shows it:")),
        ProofState::Fails(why) => ("fails", format!("The lab shows otherwise this time ({why}):")),
    };
    view! {
        <div class="reveal" data-testid="reveal" data-right=right.to_string()>
            <p class=if right { "verdict right" } else { "verdict wrong" }>{verdict}</p>
            {explanation.map(|e| view! { <p class="explain">{e}</p> })}
            <p class=format!("proof {proof_class}") data-testid="proof" data-proof=proof_class>{proof_text}</p>
            <ul class="proofs">{proofs.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}</ul>
        </div>
    }
}

/// Narration blocks as elements; every piece of text goes into a text node, never into HTML.
fn render_blocks(blocks: &[Block]) -> impl IntoView {
    blocks
        .iter()
        .map(|block| match block {
            Block::Paragraph(spans) => view! { <p>{render_spans(spans)}</p> }.into_any(),
            Block::List { ordered: true, items } => view! {
                <ol>{items.iter().map(|item| view! { <li>{render_spans(item)}</li> }).collect_view()}</ol>
            }
            .into_any(),
            Block::List { ordered: false, items } => view! {
                <ul>{items.iter().map(|item| view! { <li>{render_spans(item)}</li> }).collect_view()}</ul>
            }
            .into_any(),
            Block::Code(code) => view! { <pre><code>{code.clone()}</code></pre> }.into_any(),
        })
        .collect_view()
}

fn render_spans(spans: &[Span]) -> impl IntoView {
    spans
        .iter()
        .map(|span| match span {
            Span::Text(text) => text.clone().into_any(),
            Span::Strong(text) => view! { <strong>{text.clone()}</strong> }.into_any(),
            Span::Emphasis(text) => view! { <em>{text.clone()}</em> }.into_any(),
            Span::Code(text) => view! { <code>{text.clone()}</code> }.into_any(),
        })
        .collect_view()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The lesson the learner had open when they left, if any.
pub fn stored_lesson() -> Option<usize> {
    storage()?.get_item(CURRENT_KEY).ok()?.and_then(|name| crate::lessons::index_of(&name))
}

/// Remembers which lesson is open (`None`: the free lab).
pub fn store_lesson(name: Option<&str>) {
    if let Some(storage) = storage() {
        let _ = match name {
            Some(name) => storage.set_item(CURRENT_KEY, name),
            None => storage.remove_item(CURRENT_KEY),
        };
    }
}

/// The learner's saved progress through the lesson file `name`.
pub fn stored_progress(name: &str) -> Saved {
    storage()
        .and_then(|s| s.get_item(&crate::lessons::progress_key(name)).ok().flatten())
        .map_or_else(Saved::default, |text| Saved::decode(&text))
}

pub fn store_progress(name: &str, saved: &Saved) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&crate::lessons::progress_key(name), &saved.encode());
    }
}
