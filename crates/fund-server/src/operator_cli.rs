//! `fund-server operator …`: operators' accounts from the server's machine. This is how
//! the first administrator comes to exist, and the way back in when every administrator
//! is locked out; each command is recorded in the operators' trail as `cli`.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Subcommand;
use fund_server::service::{Caller, FundService, RequestSource, SecondFactorEnrolment, TrailQuery};
use tillfund_core::protocol::OperatorRole;

#[derive(Subcommand)]
pub(crate) enum OperatorCommand {
    /// Add an account. The password is read from the first line of standard input (so that
    /// it never shows in the process list); the second factor is printed once.
    Add {
        /// Sign-in name: 2 to 32 letters, digits, '.', '-' or '_', starting with a letter.
        #[arg(long)]
        name: String,
        /// viewer, operator, approver or administrator.
        #[arg(long)]
        role: String,
    },
    /// Every account, with its role and state.
    List,
    /// Disable an account: its sessions end at once.
    Disable {
        #[arg(long)]
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        name: String,
    },
    /// A new second factor for an account whose phone was lost; printed once.
    ResetSecondFactor {
        #[arg(long)]
        name: String,
    },
    /// The latest records of the operators' trail, newest first.
    Trail {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

pub(crate) async fn operator_command(
    service: &FundService,
    command: OperatorCommand,
) -> anyhow::Result<()> {
    let caller = Caller::CommandLine;
    let source = RequestSource::command_line();
    match command {
        OperatorCommand::Add { name, role } => {
            let role: OperatorRole = role.parse().map_err(|_| {
                anyhow::anyhow!(
                    "--role: '{role}' is not viewer, operator, approver or administrator"
                )
            })?;
            let password = read_password()?;
            let enrolment = service.add_operator(&caller, &source, &name, role, &password).await?;
            println!("added operator {} ({})", enrolment.operator.name, role);
            print_second_factor(&enrolment);
        }
        OperatorCommand::List => {
            for operator in service.operators(&caller, &source).await? {
                let state = if operator.disabled {
                    "disabled".to_owned()
                } else if let Some(until_ms) = operator.locked_until_ms {
                    format!("locked until {}", timestamp(until_ms))
                } else {
                    "active".to_owned()
                };
                println!("{}  {:<32} {:<13} {}", operator.id, operator.name, operator.role, state);
            }
        }
        OperatorCommand::Disable { name } => {
            let id = operator_named(service, &name).await?;
            service.set_operator_disabled(&caller, &source, id, true).await?;
            println!("disabled {name}; its sessions have ended");
        }
        OperatorCommand::Enable { name } => {
            let id = operator_named(service, &name).await?;
            service.set_operator_disabled(&caller, &source, id, false).await?;
            println!("enabled {name}");
        }
        OperatorCommand::ResetSecondFactor { name } => {
            let id = operator_named(service, &name).await?;
            let enrolment = service.reset_operator_second_factor(&caller, &source, id).await?;
            println!("new second factor for {}; its sessions have ended", enrolment.operator.name);
            print_second_factor(&enrolment);
        }
        OperatorCommand::Trail { limit } => {
            let query = TrailQuery { limit, ..TrailQuery::default() };
            for record in service.operator_trail(&caller, &source, query).await? {
                let record_text = &record.record;
                println!(
                    "{:>6} {} {:<20} {:<15} {:<20} {} {} {}",
                    record.sequence,
                    timestamp(record_text.at_ms),
                    record_text.actor.name,
                    record_text.source,
                    record_text.action,
                    record_text.subject,
                    record_text.outcome,
                    record_text.detail
                );
            }
        }
    }
    Ok(())
}

async fn operator_named(
    service: &FundService,
    name: &str,
) -> anyhow::Result<tillfund_core::OperatorId> {
    match service.operator_id_by_name(name).await? {
        Some(id) => Ok(id),
        None => bail!("there is no operator named '{name}'"),
    }
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!(
            "give the new operator's password on standard input, e.g. \
             `read -rs PASSWORD && printf '%s\\n' \"$PASSWORD\" | fund-server operator add …`"
        );
    }
    Ok(password)
}

fn print_second_factor(enrolment: &SecondFactorEnrolment) {
    println!("second factor (shown this once; scan or type it into an authenticator app):");
    println!("  secret: {}", enrolment.totp_secret);
    println!("  uri:    {}", enrolment.provisioning_uri);
}

fn timestamp(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms).map_or_else(|_| at_ms.to_string(), |at| at.to_string())
}
