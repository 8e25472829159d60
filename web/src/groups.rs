//! The consumer-groups panel: per group its state, generation and coordinator, its members
//! with their assignments, and per partition the owner, committed offset and lag. The rows
//! come from [`crate::panels`]; this only draws them.

use kafkalab_core::view::ClusterView;
use leptos::prelude::*;

use crate::panels::{group_rows, GroupPartitionRow, GroupRow, MemberRow};

/// Every consumer group of the view. `show_internal` also lists internal topics' partitions.
#[component]
pub fn GroupsPanel(view: Signal<ClusterView>, show_internal: Signal<bool>) -> impl IntoView {
    // Redrawn only when what it shows changes, not on every tick of the clock.
    let rows = Memo::new(move |_| view.with(|v| group_rows(v, show_internal.get())));
    view! {
        <section class="panel groups" data-testid="groups" aria-labelledby="groups-title">
            <h2 id="groups-title">"Consumer groups"</h2>
            {move || {
                let rows = rows.get();
                if rows.is_empty() {
                    view! {
                        <p class="hint">"No consumer groups yet. Start a consumer from the console: "
                            <code>"consumer alice group=billing topics=orders"</code></p>
                    }.into_any()
                } else {
                    rows.into_iter().map(|row| view! { <GroupCard row=row /> }).collect_view().into_any()
                }
            }}
        </section>
    }
}

/// One group: its header line, its members and its partition table.
#[component]
fn GroupCard(row: GroupRow) -> impl IntoView {
    let coordinator = row.coordinator.map_or(String::from("none"), |b| b.to_string());
    let generation = row.generation.map_or(String::from("–"), |g| g.to_string());
    let label = format!(
        "consumer group {}: {}, generation {generation}, coordinator broker {coordinator}",
        row.group_id, row.state.word
    );
    let hidden = row.hidden_internal;
    let members = row.members;
    let partitions = row.partitions;
    view! {
        <article class=format!("group {}", row.state.class) data-group=row.group_id.clone() data-state=row.state.word
                 data-generation=generation.clone() data-coordinator=coordinator.clone() aria-label=label>
            <header>
                <h3><button class="link" data-inspect-group=row.group_id.clone()
                            aria-label=format!("inspect group {}", row.group_id)
                            on:click={ let id = row.group_id.clone(); move |_| crate::inspector::select(crate::inspection::Selection::Group(id.clone())) }>
                    {row.group_id.clone()}</button></h3>
                <span class="group-state" data-testid="group-state">
                    <span class="marker" aria-hidden="true">{row.state.marker}</span>" "{row.state.word}
                </span>
                <span class="group-facts">
                    {format!("generation {generation} · coordinator broker {coordinator} · processed {} · duplicates {}",
                        row.records_processed, row.duplicates)}
                </span>
            </header>
            <ul class="members" aria-label="members">
                {if members.is_empty() { view! { <li class="hint">"no members"</li> }.into_any() } else {
                    members.into_iter().map(|m| view! { <MemberItem member=m /> }).collect_view().into_any()
                }}
            </ul>
            <table class="group-partitions">
                <thead><tr><th>"Partition"</th><th>"Owner"</th><th>"Committed"</th><th>"Log end"</th><th>"Lag"</th></tr></thead>
                <tbody>
                    {partitions.into_iter().map(|p| view! { <PartitionItem row=p /> }).collect_view()}
                </tbody>
            </table>
            {(hidden > 0).then(|| view! {
                <p class="hint">{format!("{hidden} partition(s) of internal topics hidden")}</p>
            })}
        </article>
    }
}

/// A member: its name (★ for the leader), its static instance id, and its partitions.
#[component]
fn MemberItem(member: MemberRow) -> impl IntoView {
    let assignment =
        if member.assignment.is_empty() { String::from("nothing assigned") } else { member.assignment.join(", ") };
    let instance = member.instance_id.unwrap_or_default();
    let instance_note = (!instance.is_empty()).then(|| format!(" (static: {instance})"));
    view! {
        <li data-member=member.label.clone() data-member-id=member.member_id.clone() data-leader=member.is_leader.to_string()
            data-instance=instance data-assignment=member.assignment.join(",")
            title=format!("member id {}", member.member_id)>
            {member.is_leader.then_some(view! { <span class="leader-mark" aria-label="group leader">"★ "</span> })}
            <strong>{member.label.clone()}</strong>
            {instance_note.map(|note| view! { <span class="instance">{note}</span> })}
            <span class="assignment">{format!(" → {assignment}")}</span>
        </li>
    }
}

/// One partition of a group's table.
#[component]
fn PartitionItem(row: GroupPartitionRow) -> impl IntoView {
    let show = |value: Option<i64>| value.map_or(String::from("–"), |v| v.to_string());
    let lagging = row.lag.is_some_and(|lag| lag > 0);
    let owner = row.owner.unwrap_or_default();
    let owner_cell = if owner.is_empty() { String::from("–") } else { owner.clone() };
    view! {
        <tr data-group-partition=row.partition.clone() data-owner=owner
            data-committed=show(row.committed) data-lag=show(row.lag) class:lagging=lagging>
            <td>{row.partition.clone()}</td>
            <td>{owner_cell}</td>
            <td>{show(row.committed)}</td>
            <td>{show(row.log_end)}</td>
            <td>{show(row.lag)}</td>
        </tr>
    }
}
