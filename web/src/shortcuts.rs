//! The page's keyboard shortcuts: which key does what, and the list the `?` dialog shows
//! (plain Rust, tested on the host; `time_controls` listens for the keys).

/// What a shortcut does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    PlayPause,
    Step,
    StepBack,
    Faster,
    Slower,
    /// Back to the start of the run.
    Start,
    /// To the furthest point reached.
    End,
    ShowHelp,
    CloseHelp,
}

/// The keys, as the dialog lists them, and what they do; in the order shown.
pub const SHORTCUTS: [(&str, &str); 8] = [
    ("Space", "play or pause"),
    (". or →", "step: run the next event"),
    (", or ←", "step back to the previous event in the log"),
    ("+ / -", "faster / slower"),
    ("Home", "back to the start"),
    ("End", "to the furthest point reached"),
    ("?", "show these shortcuts"),
    ("Escape", "close this list"),
];

/// The shortcut for a `KeyboardEvent.key`, if any. Keys held with Ctrl, Alt or Meta belong to
/// the browser, and keys typed into a text field belong to the field: the caller checks those.
pub fn shortcut_for(key: &str) -> Option<Shortcut> {
    Some(match key {
        " " => Shortcut::PlayPause,
        "." | "ArrowRight" => Shortcut::Step,
        "," | "ArrowLeft" => Shortcut::StepBack,
        // `=` is `+` without Shift on most layouts.
        "+" | "=" => Shortcut::Faster,
        "-" | "_" => Shortcut::Slower,
        "Home" => Shortcut::Start,
        "End" => Shortcut::End,
        "?" => Shortcut::ShowHelp,
        "Escape" => Shortcut::CloseHelp,
        _ => return None,
    })
}

/// Whether a key event aimed at an element named `tag` (`INPUT`, `BUTTON`, ...) is the
/// element's own: typing in a field, or Space pressing a focused button.
pub fn key_belongs_to_element(tag: &str, key: &str) -> bool {
    match tag.to_ascii_uppercase().as_str() {
        "INPUT" | "TEXTAREA" | "SELECT" => key != "Escape",
        "BUTTON" | "SUMMARY" => key == " " || key == "Enter",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_does_something_and_unlisted_keys_nothing() {
        for key in [" ", ".", "ArrowRight", ",", "ArrowLeft", "+", "-", "Home", "End", "?", "Escape"] {
            assert!(shortcut_for(key).is_some(), "{key:?}");
        }
        for key in ["a", "Enter", "Tab", "k", "ArrowUp"] {
            assert_eq!(shortcut_for(key), None, "{key:?}");
        }
        assert_eq!(shortcut_for("ArrowLeft"), Some(Shortcut::StepBack));
        assert_eq!(shortcut_for("="), Some(Shortcut::Faster));
    }

    #[test]
    fn typing_in_the_console_is_not_a_shortcut_but_escape_still_closes() {
        assert!(key_belongs_to_element("INPUT", " "));
        assert!(key_belongs_to_element("input", "."));
        assert!(!key_belongs_to_element("INPUT", "Escape"));
        assert!(key_belongs_to_element("BUTTON", " "), "Space presses the focused button instead");
        assert!(!key_belongs_to_element("BUTTON", "."));
        assert!(!key_belongs_to_element("svg", " "));
    }
}
