//! The `kafkalab` command: parses the arguments and hands over to the library.

use std::process::ExitCode;

use kafkalab_native::cli::{self, Invocation};
use kafkalab_native::server;

fn main() -> ExitCode {
    match cli::parse(std::env::args_os().skip(1)) {
        Ok(Invocation::Help(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Invocation::Serve(options)) => match server::serve(options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kafkalab: {error}");
                ExitCode::from(1)
            }
        },
        Err(error) => {
            eprintln!("kafkalab: {error}");
            ExitCode::from(2)
        }
    }
}
