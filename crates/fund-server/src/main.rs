//! `fund-server`: the operator's command line. Each subcommand is a thin call into the
//! library; errors reach the operator as one readable line and a non-zero exit.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use fund_server::config::ServerConfig;
use fund_server::http::{AppState, WebLimits, app};
use fund_server::ledger::yield_math::{DayCount, PostingInterval};
use fund_server::ledger::{LedgerPolicy, Outcome};
use fund_server::service::{FundService, ServiceConfig, YieldPolicy};
use fund_server::store::Storage as _;
use fund_server::store::{ServerStore, redacted_url};
use fund_server::vault::SecretsKey;

mod copy_to;
mod operator_cli;
use copy_to::copy_to;
use operator_cli::{OperatorCommand, operator_command};
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
    /// File with the key that seals terminal keys in the database (64 hex characters, mode
    /// 0600); created on first start. Default: secrets.key in the data directory. Keep a
    /// copy apart from database backups: without it no enrolled counter can sign.
    #[arg(long, env = "TILLFUND_SECRETS_KEY_FILE", global = true)]
    secrets_key_file: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct PolicyArgs {
    /// IANA time zone of the platform's business days (yield days).
    #[arg(long, env = "TILLFUND_TIME_ZONE", default_value = "Asia/Shanghai", global = true)]
    platform_time_zone: String,
    /// Yield day count: act365 (rate / 365 a day) or act360 (rate / 360 a day).
    #[arg(long, env = "TILLFUND_YIELD_DAY_COUNT", default_value = "act365", global = true)]
    yield_day_count: String,
    /// When accrued yield is paid into wallets: daily or monthly (after the month's last day).
    #[arg(long, env = "TILLFUND_YIELD_POSTING", default_value = "daily", global = true)]
    yield_posting: String,
    /// Wallets whose end-of-day balance is under this earn no yield that day.
    #[arg(long, env = "TILLFUND_YIELD_MINIMUM_BALANCE", default_value = "0", global = true)]
    yield_minimum_balance: String,
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
    #[command(flatten)]
    OnTheDatabase(DatabaseCommand),
    /// Copy this server's SQLite ledger into a new PostgreSQL database and prove the copy
    /// (equal rows and balances, then the audit on both). Stop every server first.
    CopyTo {
        /// postgres://USER@HOST/DB of a new database, created beforehand (`createdb`). Give
        /// the password in PGPASSWORD or ~/.pgpass, not here: the command line is visible
        /// to every user of the machine.
        #[arg(env = "TILLFUND_COPY_TARGET_URL")]
        target: String,
    },
}

/// What runs on the configured database, with the service started.
#[derive(Subcommand)]
enum DatabaseCommand {
    /// Apply database migrations, then serve HTTP until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on; port 0 picks a free port (printed on start).
        #[arg(long, env = "TILLFUND_LISTEN", default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        /// Also seed the demo store, its counter and a demo customer (idempotent).
        #[arg(long)]
        seed_demo: bool,
        /// Multiplies every per-minute rate limit (sign-ins per address and per phone,
        /// payments per wallet, enrolments, wrong operator tokens): raise it when many
        /// customers share one address. The stored PIN lock-out is not affected.
        #[arg(long, env = "TILLFUND_RATE_LIMIT_FACTOR", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        rate_limit_factor: u32,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Seed the demo store, its counter, a demo customer, bonus rules and reserve (idempotent).
    SeedDemo,
    /// Check every ledger invariant; exits non-zero and names each problem found. Checks
    /// the entries appended since the last passing audit, and every balance.
    Audit {
        /// Replay the whole journal from its first entry instead (finds an entry edited
        /// before the last passing audit; run it after a restore and now and then).
        #[arg(long)]
        full: bool,
    },
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
    /// Accrue yield for every day not yet accrued, through DATE, and post it when due.
    Accrue {
        /// Last day to accrue (YYYY-MM-DD); must be over in the platform's time zone.
        #[arg(long)]
        through: String,
    },
    /// The yield rate schedule.
    #[command(subcommand)]
    Yield(YieldCommand),
    /// Operators' accounts (the first administrator, and the way back in).
    #[command(subcommand)]
    Operator(OperatorCommand),
}

#[derive(Subcommand)]
enum YieldCommand {
    /// Set the annual rate from a day on, e.g. `yield rate --from 2026-01-01 --annual 3.65`.
    Rate {
        #[arg(long)]
        from: String,
        /// Percent per year, e.g. 3.65.
        #[arg(long)]
        annual: String,
    },
    /// Print the rate schedule.
    Rates,
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

fn yield_policy(currency: Currency, args: &PolicyArgs) -> anyhow::Result<YieldPolicy> {
    let time_zone = jiff::tz::TimeZone::get(&args.platform_time_zone).with_context(|| {
        format!("--platform-time-zone: '{}' is not an IANA time zone", args.platform_time_zone)
    })?;
    let day_count = DayCount::parse(&args.yield_day_count).with_context(|| {
        format!("--yield-day-count: '{}' is not act365 or act360", args.yield_day_count)
    })?;
    let posting = PostingInterval::parse(&args.yield_posting).with_context(|| {
        format!("--yield-posting: '{}' is not daily or monthly", args.yield_posting)
    })?;
    let minimum_balance =
        Amount::parse(&args.yield_minimum_balance, currency).context("--yield-minimum-balance")?;
    Ok(YieldPolicy { time_zone, day_count, posting, minimum_balance })
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
        sim_bugs: fund_server::ledger::ServerSimBugs::default(),
    })
}

/// What every command needs to start the service: the global options of the command line.
struct Setup {
    data_dir: PathBuf,
    database_url: Option<String>,
    currency: Currency,
    secrets_key_file: Option<PathBuf>,
    policy: PolicyArgs,
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { data_dir, database_url, currency, secrets_key_file, policy, command } = cli;
    let currency = Currency::from_code(&currency)?;
    let setup = Setup { data_dir, database_url, currency, secrets_key_file, policy };
    let command = match command {
        Command::CopyTo { target } => return copy_to(&setup, &target).await,
        Command::OnTheDatabase(command) => command,
    };
    let service = start_service(&setup).await?;
    match command {
        DatabaseCommand::Migrate => println!("database is up to date"),
        DatabaseCommand::SeedDemo => seed_demo(&service).await?,
        DatabaseCommand::Serve { listen, seed_demo: seed, rate_limit_factor } => {
            if seed {
                seed_demo(&service).await?;
            }
            serve(service, listen, WebLimits::scaled(rate_limit_factor)).await?;
        }
        DatabaseCommand::Audit { full } => audit(&service, full).await?,
        DatabaseCommand::Merchant(command) => merchant_command(&service, command).await?,
        DatabaseCommand::Terminal(command) => terminal_command(&service, command).await?,
        DatabaseCommand::Reserve(command) => reserve_command(&service, command, currency).await?,
        DatabaseCommand::Bonus(command) => bonus_command(&service, command).await?,
        DatabaseCommand::Accrue { through } => accrue(&service, &through, currency).await?,
        DatabaseCommand::Yield(command) => yield_command(&service, command).await?,
        DatabaseCommand::Operator(command) => operator_command(&service, command).await?,
    }
    Ok(())
}

/// Opens and migrates the database, loads the secrets key and starts the service, with
/// every terminal key sealed.
async fn start_service(setup: &Setup) -> anyhow::Result<FundService> {
    let database_url = setup
        .database_url
        .clone()
        .unwrap_or_else(|| ServerConfig::database_url_in(&setup.data_dir));
    let store = ServerStore::connect(&database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redacted_url(&database_url)))?;
    start_service_on(setup, store).await
}

async fn start_service_on(setup: &Setup, store: ServerStore) -> anyhow::Result<FundService> {
    let currency = setup.currency;
    let policy = policy(currency, &setup.policy)?;
    store.migrate().await?;
    let mut config = ServiceConfig::new(policy);
    config.yield_policy = yield_policy(currency, &setup.policy)?;
    config.operator_token = operator_token()?;
    let secrets_key_file = setup
        .secrets_key_file
        .clone()
        .unwrap_or_else(|| setup.data_dir.join(SECRETS_KEY_FILE_NAME));
    config.secrets_key = SecretsKey::load_or_create(&secrets_key_file, true)
        .with_context(|| format!("secrets key {}", secrets_key_file.display()))?;
    let service = FundService::start(store, config);
    let sealed = service.seal_stored_terminal_keys().await.map_err(|error| {
        anyhow::anyhow!(
            "{}; the secrets key {} does not belong to this database: restore the key file \
             that does (or re-enrol every counter)",
            error.message,
            secrets_key_file.display()
        )
    })?;
    if sealed > 0 {
        tracing::info!(sealed, "terminal keys stored in plain text were sealed");
    }
    Ok(service)
}

async fn merchant_command(service: &FundService, command: MerchantCommand) -> anyhow::Result<()> {
    match command {
        MerchantCommand::Add { name, time_zone } => {
            let merchant = service.add_merchant(&name, &time_zone).await?;
            println!("merchant {} added: {} ({})", merchant.id, merchant.name, merchant.time_zone);
        }
        MerchantCommand::List => {
            for merchant in service.merchants(u32::MAX).await? {
                println!("{}\t{}\t{}", merchant.id, merchant.time_zone, merchant.name);
            }
        }
    }
    Ok(())
}

async fn terminal_command(service: &FundService, command: TerminalCommand) -> anyhow::Result<()> {
    match command {
        TerminalCommand::ActivationCode { merchant } => {
            let merchant_id: MerchantId = merchant.parse()?;
            let (code, expires_at_ms) = service.create_activation_code(merchant_id).await?;
            // Rounded up: a code valid for 24 hours is not "valid for 23 hours" a moment later.
            let hours = (expires_at_ms - fund_server::model::now_ms() + 3_599_999) / 3_600_000;
            println!("activation code {code} (one use, valid for {hours} hours)");
        }
        TerminalCommand::Revoke { terminal } => {
            let terminal_id: TerminalId = terminal.parse()?;
            service.command_line_revoke_terminal(terminal_id).await?;
            println!("terminal {terminal_id} revoked");
        }
    }
    Ok(())
}

async fn reserve_command(
    service: &FundService,
    command: ReserveCommand,
    currency: Currency,
) -> anyhow::Result<()> {
    match command {
        ReserveCommand::Fund { amount, key } => {
            let amount = PositiveAmount::parse(&amount, currency)?;
            match service.command_line_fund_reserve(amount, &key).await? {
                Outcome::Funded { entry_sequence, amount } => println!(
                    "reserve funded with {} {currency} (journal entry {entry_sequence})",
                    amount.format(currency)
                ),
                other => bail!("unexpected answer {other:?}"),
            }
        }
        ReserveCommand::Status => {
            let status = service.ledger_status().await?;
            println!("reserve {} {currency}", status.reserve.format(currency));
            println!("service {} {currency}", status.service.format(currency));
            match status.reserve_alert {
                Some(alert) => println!("ALERT: {alert}"),
                None => println!("no alert"),
            }
        }
    }
    Ok(())
}

async fn bonus_command(service: &FundService, command: BonusCommand) -> anyhow::Result<()> {
    match command {
        BonusCommand::Publish { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let rules = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a list of bonus rules", file.display()))?;
            let rule_set = service.command_line_publish_bonus_rules(rules).await?;
            println!("bonus rule set version {} published", rule_set.version());
        }
        BonusCommand::Show => {
            println!("{}", serde_json::to_string_pretty(&service.current_bonus_rules().await?)?);
        }
    }
    Ok(())
}

async fn accrue(service: &FundService, through: &str, currency: Currency) -> anyhow::Result<()> {
    let through: jiff::civil::Date = through
        .parse()
        .with_context(|| format!("--through: '{through}' is not a date (YYYY-MM-DD)"))?;
    let report = service.accrue_through(through, service.business_today()).await?;
    if report.days.is_empty() {
        println!("nothing to accrue: every day through {through} is accrued");
    }
    for day in &report.days {
        println!(
            "{}: {} wallets accrued {} minor units; posted {} {currency}",
            day.day,
            day.wallets,
            day.accrued.round_dp(4),
            Amount::from_minor_units(day.posted)?.format(currency)
        );
    }
    Ok(())
}

async fn yield_command(service: &FundService, command: YieldCommand) -> anyhow::Result<()> {
    match command {
        YieldCommand::Rate { from, annual } => {
            let from: jiff::civil::Date = from
                .parse()
                .with_context(|| format!("--from: '{from}' is not a date (YYYY-MM-DD)"))?;
            let rate = fund_server::ledger::yield_math::parse_annual_percentage(&annual)
                .with_context(|| {
                    format!("--annual: '{annual}' is not a percentage from 0 to 100")
                })?;
            service.command_line_set_yield_rate(from, rate).await?;
            println!("annual yield {annual}% from {from}");
        }
        YieldCommand::Rates => {
            for (from, rate) in service.yield_rates().await? {
                println!("{from}\t{}%", (rate * rust_decimal::Decimal::from(100)).normalize());
            }
        }
    }
    Ok(())
}

const SECRETS_KEY_FILE_NAME: &str = "secrets.key";
/// A shorter operator token could be guessed even at the rate the server allows.
const OPERATOR_TOKEN_LENGTH_MIN: usize = 24;

/// The operator's bearer token, from `TILLFUND_OPERATOR_TOKEN_FILE` (a file only the
/// operator can read) or `TILLFUND_OPERATOR_TOKEN`. Never from the command line, where
/// every user of the machine could read it in the process list.
fn operator_token() -> anyhow::Result<Option<String>> {
    let token = match std::env::var_os("TILLFUND_OPERATOR_TOKEN_FILE") {
        Some(path) => std::fs::read_to_string(&path)
            .with_context(|| {
                format!("TILLFUND_OPERATOR_TOKEN_FILE {}", PathBuf::from(&path).display())
            })?
            .trim()
            .to_owned(),
        None => std::env::var("TILLFUND_OPERATOR_TOKEN").unwrap_or_default(),
    };
    if token.is_empty() {
        return Ok(None);
    }
    if token.len() < OPERATOR_TOKEN_LENGTH_MIN || !token.bytes().all(|byte| byte.is_ascii_graphic())
    {
        bail!(
            "the operator token must be at least {OPERATOR_TOKEN_LENGTH_MIN} visible ASCII \
             characters (e.g. `openssl rand -hex 32`)"
        );
    }
    Ok(Some(token))
}

async fn audit(service: &FundService, full: bool) -> anyhow::Result<()> {
    print_audit(&service.command_line_audit(full).await?)
}

/// Prints an audit's findings; an error when it found a problem.
fn print_audit(report: &fund_server::ledger::audit::AuditReport) -> anyhow::Result<()> {
    match &report.resumed_after {
        Some(checkpoint) => println!(
            "audited {} journal entries after entry {} (verified by the audit at {}) and {} accounts",
            report.entries_checked,
            checkpoint.sequence,
            jiff::Timestamp::from_millisecond(checkpoint.audited_at_ms)
                .map_or_else(|_| checkpoint.audited_at_ms.to_string(), |at| at.to_string()),
            report.accounts_checked
        ),
        None => println!(
            "audited {} journal entries and {} accounts",
            report.entries_checked, report.accounts_checked
        ),
    }
    println!(
        "checked the chain of {} records of the operators' trail",
        report.trail_records_checked
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
        "demo store {verb}: merchant {}, customer {} (phone {}, PIN {})",
        fund_server::demo::DEMO_MERCHANT_ID,
        fund_server::demo::DEMO_CUSTOMER_ID,
        fund_server::demo::DEMO_CUSTOMER_PHONE,
        fund_server::demo::DEMO_CUSTOMER_PIN,
    );
    Ok(())
}

async fn serve(service: FundService, listen: SocketAddr, limits: WebLimits) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local_address = listener.local_addr()?;
    // Tests and scripts read this exact line to learn the port when started on port 0.
    println!("fund-server listening on http://{local_address}");
    std::io::stdout().flush()?;
    let store = service.store().clone();
    let chores = tokio::spawn(hourly_chores(service.clone()));
    let router = app(AppState::with_limits(service, limits));
    fund_server::http::serve(listener, router, shutdown_signal()).await?;
    chores.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Now and then every hour: accrues yield through yesterday (so a day is accrued soon after
/// it ends and days missed while the server was down are caught up) and deletes expired
/// sessions. Every process of a PostgreSQL deployment runs these: a day is accrued under
/// the yield lock, once; a session is deleted by whichever process comes first.
async fn hourly_chores(service: FundService) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        interval.tick().await;
        service.remind_of_open_alerts().await;
        if let Err(error) = service.accrue_through_yesterday().await {
            tracing::error!(code = %error.code, "yield accrual failed: {}", error.message);
        }
        match service.purge_expired_sessions().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired sessions deleted"),
            Err(error) => {
                tracing::error!(code = %error.code, "session purge failed: {}", error.message);
            }
        }
    }
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
