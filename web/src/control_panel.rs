//! The control panel: produce a record (key, value, acks), add or remove a consumer, change
//! min.insync.replicas and unclean leader election, create a topic (partitions, replication
//! factor) or add partitions, and split or heal the network. Each form runs one line of the
//! core's command language (built by [`crate::control_lines`]) through the console's path, so
//! it shows in the history and in a shared link like a typed line.

use kafkalab_core::ids::BrokerId;
use kafkalab_core::metadata::ConfigName;
use leptos::prelude::*;

use crate::control_lines::{self as lines, ControlState};

/// A group's letter in the network form.
const GROUP_NAMES: [&str; 3] = ["A", "B", "C"];

#[component]
pub fn ControlPanel(state: Signal<ControlState>, on_run: Callback<String>) -> impl IntoView {
    let first_topic = move || state.with(|s| s.topics.first().map(|(name, _)| name.clone()).unwrap_or_default());
    let topic_options = move || {
        state.with(|s| {
            s.topics.iter().map(|(name, _)| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()
        })
    };

    // Produce.
    let produce_topic = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let acks = RwSignal::new(String::from("all"));
    let chosen = move |topic: RwSignal<String>| {
        let picked = topic.get_untracked();
        if picked.is_empty() {
            first_topic()
        } else {
            picked
        }
    };
    let produce = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_run.run(lines::produce(
            &chosen(produce_topic),
            &key.get_untracked(),
            &value.get_untracked(),
            lines::acks(&acks.get_untracked()),
        ));
    };

    // Consumers.
    let group = RwSignal::new(String::new());
    let consume_topic = RwSignal::new(String::new());
    let add_consumer = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, default_group) = state.with_untracked(|s| (s.next_consumer.clone(), s.groups[0].clone()));
        let picked = group.get_untracked();
        let group = if picked.trim().is_empty() { default_group } else { picked.trim().to_string() };
        on_run.run(lines::add_consumer(&name, &group, &chosen(consume_topic)));
    };
    let to_stop = RwSignal::new(String::new());

    // Topics.
    let new_topic = RwSignal::new(String::from("payments"));
    let partitions = RwSignal::new(String::from("6"));
    let replication = RwSignal::new(String::from("3"));
    let grow_topic = RwSignal::new(String::new());
    let grow_to = RwSignal::new(String::new());

    // Network: each broker's chosen group.
    let split_choice = RwSignal::new(Vec::<(BrokerId, Option<u8>)>::new());
    Effect::new(move |_| split_choice.set(state.with(|s| s.split.clone())));

    view! {
        <section class="panel control-panel" data-testid="control-panel" aria-labelledby="control-title">
            <h2 id="control-title">"Control panel"</h2>

            <form class="control produce-form" data-testid="produce-form" on:submit=produce>
                <fieldset><legend>"Produce a record"</legend>
                    <label>"Topic " <select data-testid="produce-topic" on:change=move |ev| produce_topic.set(event_target_value(&ev))>{topic_options}</select></label>
                    <label>"Key " <input data-testid="produce-key" type="text" size="8" placeholder="none"
                        prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev)) /></label>
                    <label>"Value " <input data-testid="produce-value" type="text" size="8" placeholder="none"
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /></label>
                    <label>"acks " <select data-testid="produce-acks" on:change=move |ev| acks.set(event_target_value(&ev))>
                        <option value="all" selected>"all"</option><option value="1">"1"</option><option value="0">"0"</option>
                    </select></label>
                    <button type="submit" data-testid="produce-send">"Send"</button>
                </fieldset>
            </form>

            <form class="control consumer-form" data-testid="consumer-form" on:submit=add_consumer>
                <fieldset><legend>"Consumers"</legend>
                    <label>"Group " <input data-testid="consumer-group" type="text" size="8" list="known-groups"
                        placeholder=move || state.with(|s| s.groups[0].clone())
                        prop:value=move || group.get() on:input=move |ev| group.set(event_target_value(&ev)) /></label>
                    <datalist id="known-groups">{move || state.with(|s| s.groups.iter().map(|g| view! { <option value=g.clone() /> }).collect_view())}</datalist>
                    <label>"Topic " <select data-testid="consumer-topic" on:change=move |ev| consume_topic.set(event_target_value(&ev))>{topic_options}</select></label>
                    <button type="submit" data-testid="consumer-add">{move || format!("Add {}", state.with(|s| s.next_consumer.clone()))}</button>
                    <label>"Remove " <select data-testid="consumer-remove-choice" on:change=move |ev| to_stop.set(event_target_value(&ev))>
                        {move || state.with(|s| s.consumers.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view())}
                    </select></label>
                    <button type="button" data-testid="consumer-remove" disabled=move || state.with(|s| s.consumers.is_empty())
                        on:click=move |_| {
                            let picked = to_stop.get_untracked();
                            let name = state.with_untracked(|s| if s.consumers.contains(&picked) { Some(picked) } else { s.consumers.first().cloned() });
                            if let Some(name) = name { on_run.run(lines::remove_consumer(&name)); }
                        }>"Stop it"</button>
                </fieldset>
            </form>

            <div class="control settings-form">
                <fieldset><legend>"Cluster settings"</legend>
                    <label>"min.insync.replicas "
                        <select data-testid="min-insync" on:change=move |ev| on_run.run(lines::set(ConfigName::MinInsyncReplicas, &event_target_value(&ev)))>
                            {move || state.with(|s| (1..=s.brokers.max(1)).map(|n| {
                                let value = n.to_string();
                                let selected = value == s.min_insync_replicas;
                                view! { <option value=value.clone() selected=selected>{value.clone()}</option> }
                            }).collect_view())}
                        </select>
                    </label>
                    <label class="toggle">
                        <input type="checkbox" data-testid="unclean" prop:checked=move || state.with(|s| s.unclean_leader_election)
                            on:change=move |ev| on_run.run(lines::set(ConfigName::UncleanLeaderElectionEnable, &event_target_checked(&ev).to_string())) />
                        " unclean.leader.election.enable"
                    </label>
                </fieldset>
            </div>

            <div class="control topic-form">
                <fieldset><legend>"Topics"</legend>
                    <label>"Name " <input data-testid="topic-name" type="text" size="8"
                        prop:value=move || new_topic.get() on:input=move |ev| new_topic.set(event_target_value(&ev)) /></label>
                    <label>"Partitions " <input data-testid="topic-partitions" type="number" min="1" max="200"
                        prop:value=move || partitions.get() on:input=move |ev| partitions.set(event_target_value(&ev)) /></label>
                    <label>"Replication factor " <input data-testid="topic-rf" type="number" min="1" max=move || state.with(|s| s.brokers)
                        prop:value=move || replication.get() on:input=move |ev| replication.set(event_target_value(&ev)) /></label>
                    <button type="button" data-testid="topic-create" on:click=move |_| on_run.run(lines::create_topic(
                        new_topic.get_untracked().trim(),
                        partitions.get_untracked().trim().parse().unwrap_or(1),
                        replication.get_untracked().trim().parse().unwrap_or(1)))>"Create topic"</button>
                    <span class="grow">
                        <label>"Grow " <select data-testid="grow-topic" on:change=move |ev| grow_topic.set(event_target_value(&ev))>{topic_options}</select></label>
                        <label>" to " <input data-testid="grow-to" type="number" min="1" size="3" placeholder=move || {
                            let topic = chosen(grow_topic);
                            state.with(|s| s.topics.iter().find(|(t, _)| *t == topic).map_or(1, |(_, p)| p + 1)).to_string()
                        } prop:value=move || grow_to.get() on:input=move |ev| grow_to.set(event_target_value(&ev)) />" partitions"</label>
                        <button type="button" data-testid="grow" on:click=move |_| {
                            let topic = chosen(grow_topic);
                            let current = state.with_untracked(|s| s.topics.iter().find(|(t, _)| *t == topic).map_or(1, |(_, p)| *p));
                            let to = grow_to.get_untracked().trim().parse().unwrap_or(current + 1);
                            on_run.run(lines::add_partitions(&topic, to));
                        }>"Add partitions"</button>
                    </span>
                </fieldset>
            </div>

            <div class="control network-form" data-testid="network-form">
                <fieldset><legend>"Network"</legend>
                    <p class="hint">"Put brokers in groups: links between groups are cut. A broker in no group keeps its links."</p>
                    {move || state.with(|s| s.split.iter().map(|(broker, _)| {
                        let broker = *broker;
                        view! {
                            <label class="split-choice">{format!("Broker {broker} ")}
                                <select data-split-broker=broker.0 on:change=move |ev| {
                                    let picked = event_target_value(&ev).parse::<u8>().ok();
                                    split_choice.update(|choices| {
                                        if let Some(entry) = choices.iter_mut().find(|(b, _)| *b == broker) { entry.1 = picked; }
                                    });
                                }>
                                    <option value="" selected=move || split_choice.with(|c| c.iter().any(|(b, g)| *b == broker && g.is_none()))>"no group"</option>
                                    {GROUP_NAMES.iter().enumerate().map(|(index, name)| {
                                        let index = index as u8;
                                        view! { <option value=index.to_string()
                                            selected=move || split_choice.with(|c| c.iter().any(|(b, g)| *b == broker && *g == Some(index)))>
                                            {format!("group {name}")}</option> }
                                    }).collect_view()}
                                </select>
                            </label>
                        }
                    }).collect_view())}
                    <button type="button" data-testid="split" on:click=move |_| on_run.run(split_choice.with_untracked(|c| lines::split(c)))>"Split"</button>
                    <button type="button" data-testid="heal" on:click=move |_| on_run.run(String::from("heal"))>"Heal"</button>
                </fieldset>
            </div>
        </section>
    }
}
