//! The `shiftsms` command line: parse arguments, load the config, call into the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use shiftsms::modem::pdu::gsm7;

#[derive(Debug, Parser)]
#[command(version, about, arg_required_else_help = true)]
struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = "config.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show how many SMS parts a text costs and in which alphabet (useful when writing templates).
    SmsCost {
        /// The text, as it would be sent.
        text: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::SmsCost { text } => {
            let plan = gsm7::plan(&text);
            let alphabet = match plan.encoding {
                gsm7::Encoding::Gsm7 => "GSM 7-bit",
                gsm7::Encoding::Ucs2 => "UCS-2 (a character is outside the GSM alphabet)",
            };
            println!("{} SMS part(s), {alphabet}", plan.part_count());
        }
    }
    Ok(())
}
