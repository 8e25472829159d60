//! The `kafkalab` command: parses the arguments and hands over to the library.

use std::process::ExitCode;

use kafkalab_native::cli::{self, Invocation};
use kafkalab_native::{server, tools};

fn main() -> ExitCode {
    let outcome = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Invocation::Help(text)) => {
            print!("{text}");
            Ok(())
        }
        Ok(Invocation::Serve(options)) => server::serve(options).map_err(|e| e.to_string()),
        Ok(Invocation::Tool(tool)) => tools::run(tool).map_err(|e| e.to_string()),
        Err(error) => {
            eprintln!("kafkalab: {error}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kafkalab: {error}");
            ExitCode::from(1)
        }
    }
}
