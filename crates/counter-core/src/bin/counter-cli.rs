//! `counter-cli`: the counter's core without a window, for operators' scripts and for the
//! crash tests that kill a counter in the middle of a sync.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use counter_core::counter::Counter;
use counter_core::sync::{RoundOutcome, sync_round};

#[derive(Parser)]
#[command(name = "counter-cli", version, about = "Tillfund counter core, headless")]
struct Cli {
    /// The counter's local database file.
    #[arg(long, env = "TILLFUND_COUNTER_DB", default_value = "counter.sqlite")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enrol with the server and an activation code.
    Enrol {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "Counter")]
        label: String,
    },
    /// Enrol an enrolled counter again with a new activation code, as a manager (as in the
    /// app's Settings); refused while anything waits for the server.
    ReEnrol {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "Counter")]
        label: String,
        #[arg(long)]
        manager: String,
        #[arg(long, env = "TILLFUND_MANAGER_PIN")]
        manager_pin: String,
    },
    /// Record cash top-ups (offline is fine); they wait in the outbox.
    TopUp {
        /// Member code or phone number.
        #[arg(long)]
        customer: String,
        #[arg(long)]
        amount: String,
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// One sync round: pull, then push the outbox.
    Sync,
    /// Entries waiting for the server, and those that need attention.
    Status,
    /// Add a member of staff. The first is a manager and needs no one; later ones are
    /// added with a manager's name and PIN, as at the counter.
    AddStaff {
        #[arg(long)]
        name: String,
        /// cashier or manager.
        #[arg(long)]
        role: String,
        #[arg(long, env = "TILLFUND_STAFF_PIN")]
        pin: String,
        #[arg(long)]
        manager: Option<String>,
        #[arg(long, env = "TILLFUND_MANAGER_PIN")]
        manager_pin: Option<String>,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("counter-cli: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let counter = Counter::open(&cli.db)
        .await
        .with_context(|| format!("cannot open {}", cli.db.display()))?;
    match cli.command {
        Command::Enrol { server, code, label } => {
            let profile = counter.enrol(&server, &code, &label).await?;
            println!("enrolled as {} at {}", profile.terminal_id, profile.merchant_name);
        }
        Command::ReEnrol { server, code, label, manager, manager_pin } => {
            let now = counter_core::counter::now_ms();
            let by = sign_in_by_name(&counter, &manager, &manager_pin, now).await?;
            let done = counter.re_enrol(&by, &server, &code, &label).await?;
            println!(
                "enrolled again as {} at {} (was {}: ask the operator to revoke it)",
                done.profile.terminal_id, done.profile.merchant_name, done.previous_terminal_id
            );
        }
        Command::TopUp { customer, amount, count } => {
            for _ in 0..count {
                let preview = counter.preview_top_up(&customer, &amount).await?;
                let record = counter.record_top_up(None, &preview).await?;
                println!("{} pending", record.receipt_number);
            }
        }
        Command::Sync => {
            match sync_round(counter.store()).await {
                RoundOutcome::Done { pushed } => println!("pushed {pushed}"),
                RoundOutcome::Empty => {}
                RoundOutcome::NotEnrolled => {
                    bail!("this counter is not enrolled: run `counter-cli enrol` first")
                }
                RoundOutcome::Failed(reason) => bail!("sync failed: {reason}"),
            }
            let staff = counter_core::staff_sync::sync_staff(counter.store()).await?;
            if staff.pushed + staff.adopted + staff.pulled > 0 {
                println!(
                    "staff: {} sent to the store's list, {} taken from it in place of this \
                     counter's own, {} changes pulled",
                    staff.pushed, staff.adopted, staff.pulled
                );
            }
            // An entry the server put off (retry later) is still pending: "in sync" only
            // when nothing is.
            match counter.store().pending_summary().await? {
                (0, _) => println!("in sync"),
                (pending, _) => println!(
                    "{pending} still pending: the server put them off; the next sync retries"
                ),
            }
        }
        Command::AddStaff { name, role, pin, manager, manager_pin } => {
            let now = counter_core::counter::now_ms();
            let by = match (manager, manager_pin) {
                (Some(manager), Some(manager_pin)) => {
                    Some(sign_in_by_name(&counter, &manager, &manager_pin, now).await?)
                }
                (None, None) => None,
                _ => bail!("give both --manager and --manager-pin, or neither"),
            };
            let role = counter_core::staff::Role::parse(&role)?;
            let member = counter.add_staff(by.as_ref(), &name, role, &pin, now).await?;
            println!("added {} as {}", member.name, member.role.as_str());
        }
        Command::Status => {
            match counter.store().pending_summary().await? {
                (pending, None) => println!("pending {pending}"),
                (pending, Some(oldest_ms)) => {
                    let oldest = jiff::Timestamp::from_millisecond(oldest_ms).map_or_else(
                        |_| oldest_ms.to_string(),
                        |at| at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    );
                    println!("pending {pending} (oldest recorded at {oldest})");
                }
            }
            for entry in counter.store().needs_attention().await? {
                println!("needs attention: #{} {}: {}", entry.sequence, entry.code, entry.message);
            }
        }
    }
    counter.store().close().await;
    Ok(())
}

/// Signs a member of staff in by name, as at the counter's sign-in screen.
async fn sign_in_by_name(
    counter: &Counter,
    name: &str,
    pin: &str,
    now_ms: i64,
) -> anyhow::Result<counter_core::staff::StaffSession> {
    let member = counter
        .staff()
        .await?
        .into_iter()
        .find(|member| member.name.eq_ignore_ascii_case(name.trim()))
        .with_context(|| format!("no member of staff is called '{name}'"))?;
    Ok(counter.sign_in(member.staff_id, pin, now_ms).await?)
}
