//! A lesson file that cannot be read: which file, which line, and what is wrong, written for the
//! teacher who will fix it (`lessons/03-acks.md:42: in a task's check: column 8: ...`).

use alloc::string::String;
use core::fmt;

use crate::command::ParseError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonError {
    /// The file name as given to [`super::parse()`].
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// What is wrong, with the place in the line where one is known.
    pub message: String,
}

impl fmt::Display for LessonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// An error without its file, while the parser works on one line; [`LineError::in_file`] adds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl LineError {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        LineError { line, message: message.into() }
    }

    /// A command-language error on `line`, said to be `context` ("in a task's check").
    pub(crate) fn from_parse(line: usize, context: &str, error: &ParseError) -> Self {
        LineError::new(line, alloc::format!("{context}: {error}"))
    }

    pub(crate) fn in_file(self, file: &str) -> LessonError {
        LessonError { file: String::from(file), line: self.line, message: self.message }
    }
}
