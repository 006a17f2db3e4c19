//! The one writer of the ledger, with group commit.
//!
//! Every money operation goes through one task that takes whatever commands are waiting
//! (up to [`BATCH_COMMANDS_MAX`]), decides and writes them in one database transaction,
//! and answers each caller only after that transaction committed. Nearly every operation
//! touches `reserve` or `service`; locking those rows once per batch instead of once per
//! operation is what lets the ledger keep up with many counters, and one durable commit
//! per batch amortises the fsync.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::ledger::{Batch, BatchNeeds, Command, Decided, Deferred, LedgerPolicy};
use crate::store::{BatchTransaction, LedgerStore, StoreError};

/// Most commands decided in one transaction.
pub const BATCH_COMMANDS_MAX: usize = 1_000;
/// Most commands waiting for the writer; past that, callers wait to enqueue (back-pressure).
pub const QUEUE_COMMANDS_MAX: usize = 10_000;
/// Pause after a failed batch before taking the next, so a sick disk is not hammered.
const FAILED_BATCH_PAUSE: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The rules refused to decide it now; nothing was written.
    #[error(transparent)]
    Deferred(#[from] Deferred),
    /// The database failed; nothing was written and the same request may be retried.
    #[error("the ledger could not write: {0}")]
    Storage(String),
    #[error("the ledger is shutting down")]
    ShuttingDown,
}

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Decided, SubmitError>>,
}

/// A cheap, cloneable handle to the writer task.
#[derive(Clone)]
pub struct LedgerWriter {
    sender: mpsc::Sender<Job>,
    /// Counts committed batches; long-polling readers wait for it to move.
    commits: tokio::sync::watch::Receiver<u64>,
}

impl LedgerWriter {
    /// Starts the writer task on the current tokio runtime. It stops when every handle is
    /// dropped, after finishing the batch in hand.
    pub fn start<S: LedgerStore + Clone + Send + Sync + 'static>(
        store: S,
        policy: LedgerPolicy,
    ) -> LedgerWriter {
        LedgerWriter::start_with_batch_limit(store, policy, BATCH_COMMANDS_MAX)
    }

    /// As `start`, with another batch limit; 1 gives one transaction per command, which is
    /// the benchmark's baseline.
    pub fn start_with_batch_limit<S: LedgerStore + Clone + Send + Sync + 'static>(
        store: S,
        policy: LedgerPolicy,
        batch_commands_max: usize,
    ) -> LedgerWriter {
        let (sender, receiver) = mpsc::channel(QUEUE_COMMANDS_MAX);
        let (commit_sender, commits) = tokio::sync::watch::channel(0);
        // Other processes on the same database commit too; their commits wake this
        // process's long polls as its own do. The follower ends with the runtime.
        let follower = store.clone();
        let follower_commits = commit_sender.clone();
        tokio::spawn(async move { follower.follow_commits(follower_commits).await });
        tokio::spawn(run(
            store,
            policy,
            receiver,
            batch_commands_max.clamp(1, BATCH_COMMANDS_MAX),
            commit_sender,
        ));
        LedgerWriter { sender, commits }
    }

    /// Changes after every committed batch: wait on it to learn of new entries at once.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.commits.clone()
    }

    pub async fn submit(&self, command: Command) -> Result<Decided, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.sender.send(Job { command, reply }).await.map_err(|_| SubmitError::ShuttingDown)?;
        answer.await.map_err(|_| SubmitError::ShuttingDown)?
    }

    /// Submits commands in this order (they are decided in this order, usually in one
    /// batch) and returns one result per command.
    pub async fn submit_all(&self, commands: Vec<Command>) -> Vec<Result<Decided, SubmitError>> {
        let mut answers = Vec::with_capacity(commands.len());
        for command in commands {
            let (reply, answer) = oneshot::channel();
            if self.sender.send(Job { command, reply }).await.is_err() {
                break;
            }
            answers.push(answer);
        }
        let mut results = Vec::with_capacity(answers.len());
        for answer in answers {
            results.push(answer.await.unwrap_or(Err(SubmitError::ShuttingDown)));
        }
        results
    }
}

/// Decides and writes a batch of commands atomically: load what the batch needs in its write
/// transaction, decide every command in order (`Batch::apply`), write what it produced,
/// commit. The result has one entry per command, in order. On `Err` nothing at all was
/// written and every command may be retried.
pub async fn apply_batch<S: LedgerStore>(
    store: &S,
    policy: &LedgerPolicy,
    commands: &[Command],
) -> Result<Vec<Result<Decided, Deferred>>, StoreError> {
    let needs = BatchNeeds::of(commands);
    let mut transaction = store.begin_batch().await?;
    let state = transaction.load(&needs).await?;
    let mut batch = Batch::new(policy, state);
    let results: Vec<Result<Decided, Deferred>> =
        commands.iter().map(|command| batch.apply(command)).collect();
    let writes = batch.finish();
    transaction.write(&writes).await?;
    transaction.commit().await?;
    Ok(results)
}

async fn run<S: LedgerStore>(
    store: S,
    policy: LedgerPolicy,
    mut receiver: mpsc::Receiver<Job>,
    batch_commands_max: usize,
    commits: tokio::sync::watch::Sender<u64>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(batch_commands_max);
    loop {
        if receiver.recv_many(&mut jobs, batch_commands_max).await == 0 {
            return;
        }
        let commands: Vec<Command> = jobs.iter().map(|job| job.command.clone()).collect();
        match apply_batch(&store, &policy, &commands).await {
            Ok(results) => {
                commits.send_modify(|count| *count += 1);
                for (job, result) in jobs.drain(..).zip(results) {
                    // A caller that gave up waiting is fine: the result is stored under its
                    // idempotency key and a retry will get it.
                    let _ = job.reply.send(result.map_err(SubmitError::from));
                }
            }
            Err(error) => {
                tracing::error!(%error, commands = jobs.len(), "ledger batch failed; nothing written");
                let message = error.to_string();
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(SubmitError::Storage(message.clone())));
                }
                tokio::time::sleep(FAILED_BATCH_PAUSE).await;
            }
        }
    }
}
