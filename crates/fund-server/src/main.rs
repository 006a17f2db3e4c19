//! `fund-server`: the operator's command line. Each subcommand is a thin call into the
//! library; errors reach the operator as one readable line and a non-zero exit.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use fund_server::config::ServerConfig;
use fund_server::http::{AppState, app};
use fund_server::ledger::{LedgerPolicy, Outcome};
use fund_server::service::{FundService, ServiceConfig};
use fund_server::store::Store;
use tillfund_core::{Amount, Currency, MerchantId, PositiveAmount, TerminalId};

#[derive(Parser)]
#[command(name = "fund-server", version, about = "Tillfund fund server")]
struct Cli {
    /// Directory for the embedded SQLite database.
    #[arg(long, env = "TILLFUND_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// Database URL; overrides --data-dir. Example: sqlite:///var/lib/tillfund/fund.sqlite
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// ISO 4217 code of the deployment's one currency.
    #[arg(long, env = "TILLFUND_CURRENCY", default_value = "CNY", global = true)]
    currency: String,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct PolicyArgs {
    /// Most a wallet may hold after a top-up, e.g. 5000.00.
    #[arg(long, env = "TILLFUND_WALLET_CAP", default_value = "5000.00", global = true)]
    wallet_cap: String,
    /// Refill the reserve from the service account when it falls under this amount.
    #[arg(long, env = "TILLFUND_RESERVE_THRESHOLD", default_value = "0", global = true)]
    reserve_threshold: String,
    /// How much one refill moves; 0 turns the reserve monitor off.
    #[arg(long, env = "TILLFUND_RESERVE_REFILL", default_value = "0", global = true)]
    reserve_refill: String,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations, then serve HTTP until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on; port 0 picks a free port (printed on start).
        #[arg(long, env = "TILLFUND_LISTEN", default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        /// Also seed the demo store, its counter and a demo customer (idempotent).
        #[arg(long)]
        seed_demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Seed the demo store, its counter, a demo customer, bonus rules and reserve (idempotent).
    SeedDemo,
    /// Check every ledger invariant; exits non-zero and names each problem found.
    Audit,
    /// Manage merchants (partner stores).
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Manage counter terminals.
    #[command(subcommand)]
    Terminal(TerminalCommand),
    /// The reserve account.
    #[command(subcommand)]
    Reserve(ReserveCommand),
    /// Bonus rules.
    #[command(subcommand)]
    Bonus(BonusCommand),
}

#[derive(Subcommand)]
enum MerchantCommand {
    /// Add a merchant; prints its id.
    Add {
        #[arg(long)]
        name: String,
        /// IANA time zone of its business day.
        #[arg(long, default_value = "Asia/Shanghai")]
        time_zone: String,
    },
    /// List merchants.
    List,
}

#[derive(Subcommand)]
enum TerminalCommand {
    /// Issue a one-time activation code for a new counter of a merchant.
    ActivationCode {
        #[arg(long)]
        merchant: String,
    },
    /// Revoke a terminal: its requests are refused from now on.
    Revoke { terminal: String },
}

#[derive(Subcommand)]
enum ReserveCommand {
    /// Record money moved from the bank into the reserve.
    Fund {
        /// Amount in major units, e.g. 100000.00.
        #[arg(long)]
        amount: String,
        /// Idempotency key: rerunning with the same key funds only once.
        #[arg(long)]
        key: String,
    },
    /// Balances of the reserve and service accounts, and any alert.
    Status,
}

#[derive(Subcommand)]
enum BonusCommand {
    /// Publish a new rule set from a JSON file (a list of rules), superseding the current one.
    Publish { file: PathBuf },
    /// Print the rule set in force.
    Show,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fund-server: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn policy(currency: Currency, args: &PolicyArgs) -> anyhow::Result<LedgerPolicy> {
    let parse = |name: &str, text: &str| {
        let amount = Amount::parse(text, currency).with_context(|| format!("--{name}"))?;
        if amount.is_negative() {
            bail!("--{name} cannot be negative");
        }
        Ok(amount)
    };
    Ok(LedgerPolicy {
        currency,
        wallet_balance_cap: parse("wallet-cap", &args.wallet_cap)?,
        reserve_threshold: parse("reserve-threshold", &args.reserve_threshold)?,
        reserve_refill: parse("reserve-refill", &args.reserve_refill)?,
    })
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let currency = Currency::from_code(&cli.currency)?;
    let policy = policy(currency, &cli.policy)?;
    let database_url =
        cli.database_url.unwrap_or_else(|| ServerConfig::database_url_in(&cli.data_dir));
    let store = Store::connect(&database_url)
        .await
        .with_context(|| format!("cannot open the database {database_url}"))?;
    store.migrate().await?;
    let service = FundService::start(store.clone(), ServiceConfig::new(policy));
    match cli.command {
        Command::Migrate => println!("database is up to date"),
        Command::SeedDemo => seed_demo(&service).await?,
        Command::Serve { listen, seed_demo: seed } => {
            if seed {
                seed_demo(&service).await?;
            }
            serve(service, listen).await?;
        }
        Command::Audit => audit(&service).await?,
        Command::Merchant(MerchantCommand::Add { name, time_zone }) => {
            let merchant = service.add_merchant(&name, &time_zone).await?;
            println!("merchant {} added: {} ({})", merchant.id, merchant.name, merchant.time_zone);
        }
        Command::Merchant(MerchantCommand::List) => {
            for merchant in store.list_merchants(u32::MAX).await? {
                println!("{}\t{}\t{}", merchant.id, merchant.time_zone, merchant.name);
            }
        }
        Command::Terminal(TerminalCommand::ActivationCode { merchant }) => {
            let merchant_id: MerchantId = merchant.parse()?;
            let (code, expires_at_ms) = service.create_activation_code(merchant_id).await?;
            let hours = (expires_at_ms - fund_server::model::now_ms()) / 3_600_000;
            println!("activation code {code} (one use, valid for {hours} hours)");
        }
        Command::Terminal(TerminalCommand::Revoke { terminal }) => {
            let terminal_id: TerminalId = terminal.parse()?;
            if !store.revoke_terminal(terminal_id, fund_server::model::now_ms()).await? {
                bail!("there is no terminal {terminal_id}");
            }
            println!("terminal {terminal_id} revoked");
        }
        Command::Reserve(ReserveCommand::Fund { amount, key }) => {
            let amount = PositiveAmount::parse(&amount, currency)?;
            match service.fund_reserve(amount, &key).await? {
                Outcome::Funded { entry_sequence, amount } => println!(
                    "reserve funded with {} {currency} (journal entry {entry_sequence})",
                    amount.format(currency)
                ),
                other => bail!("unexpected answer {other:?}"),
            }
        }
        Command::Reserve(ReserveCommand::Status) => {
            let reserve = store.balance(fund_server::ledger::Account::Reserve).await?;
            let service_balance = store.balance(fund_server::ledger::Account::Service).await?;
            println!("reserve {} {currency}", reserve.format(currency));
            println!("service {} {currency}", service_balance.format(currency));
            match store.reserve_alert().await? {
                Some(alert) => println!("ALERT: {alert}"),
                None => println!("no alert"),
            }
        }
        Command::Bonus(BonusCommand::Publish { file }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let rules = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a list of bonus rules", file.display()))?;
            let rule_set = service.publish_bonus_rules(rules).await?;
            println!("bonus rule set version {} published", rule_set.version());
        }
        Command::Bonus(BonusCommand::Show) => {
            println!("{}", serde_json::to_string_pretty(&store.current_bonus_rules().await?)?);
        }
    }
    Ok(())
}

async fn audit(service: &FundService) -> anyhow::Result<()> {
    let report = service.audit().await?;
    println!(
        "audited {} journal entries and {} accounts",
        report.entries_checked, report.accounts_checked
    );
    if report.passed() {
        println!("audit passed: every invariant holds");
        return Ok(());
    }
    for problem in &report.problems {
        println!("PROBLEM: {problem}");
    }
    bail!("audit failed: {} problems", report.problems_found)
}

async fn seed_demo(service: &FundService) -> anyhow::Result<()> {
    let outcome = fund_server::demo::seed_demo(service).await?;
    let verb = if outcome.created { "created" } else { "already present" };
    println!(
        "demo store {verb}: merchant {}, terminal {}, customer {} (phone {}, PIN {})",
        fund_server::demo::DEMO_MERCHANT_ID,
        fund_server::demo::DEMO_TERMINAL_ID,
        fund_server::demo::DEMO_CUSTOMER_ID,
        fund_server::demo::DEMO_CUSTOMER_PHONE,
        fund_server::demo::DEMO_CUSTOMER_PIN,
    );
    Ok(())
}

async fn serve(service: FundService, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local_address = listener.local_addr()?;
    // Tests and scripts read this exact line to learn the port when started on port 0.
    println!("fund-server listening on http://{local_address}");
    std::io::stdout().flush()?;
    let store = service.store().clone();
    let router = app(AppState::new(service));
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
