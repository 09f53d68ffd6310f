//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics: candidates
//! take a free or expired lease, the leader renews it every retry period and steps down when it
//! cannot renew in time, and every write is guarded by the lease's `resourceVersion`.
//!
//! ```no_run
//! use std::time::Duration;
//! use kubernaut_client::Client;
//! use kubernaut_informer::leader::{LeaderElectionConfig, LeaderElector, LeaseLock};
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let lock = LeaseLock::new(client, "kube-system", "my-controller", "pod-a_5f1c");
//! let config = LeaderElectionConfig { release_on_cancel: true, ..LeaderElectionConfig::default() };
//! let elector = LeaderElector::new(lock, config)?;
//! let mut status = elector.subscribe();
//! tokio::spawn(async move {
//!     while status.changed().await.is_ok() {
//!         println!("leader: {:?}", status.borrow().leader);
//!     }
//! });
//! let shutdown = async { /* a signal handler, a cancellation token, ... */ };
//! let ended = elector
//!     .run(shutdown, |leadership| async move {
//!         // Reconcile until leadership is lost (or shutdown begins).
//!         leadership.lost().await;
//!     })
//!     .await?;
//! println!("election ended: {ended:?}");
//! # Ok(())
//! # }
//! ```
//!
//! # How time is measured
//! A candidate never compares its clock with the timestamps in the lease: they may come from
//! another machine's clock. It notes, on tokio's monotonic clock ([`tokio::time::Instant`]),
//! when it last saw the lease's record (holder, duration, acquire and renew times, transitions)
//! change, and treats the lease as expired once `leaseDurationSeconds` passed since then
//! without a change. This tolerates any clock skew between machines, but not clocks that run
//! at different rates, as upstream says; `lease_duration / renew_deadline` is the tolerated
//! ratio of rates.
//!
//! Each instant is read when it is needed, after the awaits before it: the start of an attempt
//! is read before the lease is fetched (so a slow read never makes a lease look older than it
//! is), the time a change was observed after the read returned (so it never looks earlier).
//! Timers and deadlines are tokio's, so the whole election runs on virtual time in tests.
//!
//! # Deviations from client-go, all on the safe side
//! - A leader that reads the lease and finds another holder whose lease is valid stops leading
//!   at once; client-go keeps its callbacks running until its renew deadline.
//! - The renew deadline counts from the last successful renewal; client-go counts it from the
//!   start of the renewal round that begins a retry period later, which lets leadership outlive
//!   the lease when `retry_period + renew_deadline > lease_duration`.
//! - On shutdown with `release_on_cancel`, the lease is released only after the leading work
//!   has finished, so two processes never act as leader at once; client-go leaves that to the
//!   caller.
//! - Renew times written are strictly increasing (by at least a microsecond), so that every
//!   renewal is a visible change even when the wall clock stands still or steps back.
//!
//! There is no fencing: a leader that is paused longer than its renew deadline (a stopped
//! process, a long garbage collection) may act for a moment after another took over.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kubernaut_api_types::MicroTime;
use kubernaut_api_types::coordination::v1::{Lease, LeaseSpec};
use kubernaut_api_types::meta::ObjectMeta;
use kubernaut_client::{Api, BoxError, Client, PostParams};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::events::{EventType, Recorder, object_reference};

/// How long non-leaders wait, without seeing the lease change, before they take it: 15 s, the
/// default of kube-controller-manager and controller-runtime.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
/// How long the leader keeps trying to renew before it gives up leadership: 10 s.
pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(10);
/// How long candidates wait between attempts: 2 s.
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);
/// The largest random extra wait between a candidate's attempts, as a fraction of the retry
/// period (client-go's `JitterFactor`); also the margin the renew deadline must keep over the
/// retry period.
pub const JITTER_FACTOR: f64 = 1.2;

/// The timing of an election.
///
/// `lease_duration > renew_deadline > JITTER_FACTOR * retry_period` must hold
/// ([`LeaderElectionConfig::validate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    /// How long candidates wait, from the last change of the lease they saw, before taking it.
    /// Written to the lease in whole seconds (`leaseDurationSeconds`). Keep it short within
    /// your tolerance for clock-rate skew: when every candidate restarts under a new identity,
    /// they wait this long before one takes over.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew, from its last successful renewal, before it
    /// stops leading.
    pub renew_deadline: Duration,
    /// How long to wait between attempts (candidates add up to `JITTER_FACTOR` times as much
    /// at random).
    pub retry_period: Duration,
    /// On shutdown, once the leading work has finished, clear the holder and set a one-second
    /// duration so that another candidate takes over at its next attempt instead of waiting
    /// for the lease to expire.
    pub release_on_cancel: bool,
}

impl Default for LeaderElectionConfig {
    /// 15 s / 10 s / 2 s, no release on cancel (upstream's defaults).
    fn default() -> Self {
        LeaderElectionConfig {
            lease_duration: DEFAULT_LEASE_DURATION,
            renew_deadline: DEFAULT_RENEW_DEADLINE,
            retry_period: DEFAULT_RETRY_PERIOD,
            release_on_cancel: false,
        }
    }
}

impl LeaderElectionConfig {
    /// Checks the timing: `lease_duration > renew_deadline > 1.2 * retry_period`, a retry
    /// period above zero, and a lease duration of at least one second (the lease stores whole
    /// seconds) that fits the lease's 32-bit field.
    ///
    /// # Errors
    /// The first rule broken, in that order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lease_duration <= self.renew_deadline {
            return Err(ConfigError::LeaseDurationNotAboveRenewDeadline {
                lease_duration: self.lease_duration,
                renew_deadline: self.renew_deadline,
            });
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER_FACTOR) {
            return Err(ConfigError::RenewDeadlineNotAboveJitteredRetryPeriod {
                renew_deadline: self.renew_deadline,
                retry_period: self.retry_period,
            });
        }
        if self.retry_period.is_zero() {
            return Err(ConfigError::ZeroRetryPeriod);
        }
        if self.lease_duration < Duration::from_secs(1)
            || i32::try_from(self.lease_duration.as_secs()).is_err()
        {
            return Err(ConfigError::LeaseDurationOutOfRange(self.lease_duration));
        }
        Ok(())
    }

    /// `leaseDurationSeconds`: the lease duration in whole seconds (rounded down, as upstream).
    fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// A configuration that [`LeaderElector::new`] refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The lease duration is not longer than the renew deadline: followers could take over
    /// while the leader still believes it leads.
    #[error(
        "lease duration must be greater than renew deadline ({lease_duration:?} <= {renew_deadline:?})"
    )]
    LeaseDurationNotAboveRenewDeadline {
        /// The lease duration.
        lease_duration: Duration,
        /// The renew deadline.
        renew_deadline: Duration,
    },
    /// The renew deadline leaves no room for a jittered retry.
    #[error(
        "renew deadline must be greater than retry period * {JITTER_FACTOR} ({renew_deadline:?} <= {retry_period:?} * {JITTER_FACTOR})"
    )]
    RenewDeadlineNotAboveJitteredRetryPeriod {
        /// The renew deadline.
        renew_deadline: Duration,
        /// The retry period.
        retry_period: Duration,
    },
    /// The retry period is zero.
    #[error("retry period must be greater than zero")]
    ZeroRetryPeriod,
    /// The lease duration is under one second, or too long for `leaseDurationSeconds`.
    #[error("lease duration must be between one second and {max} seconds, not {0:?}", max = i32::MAX)]
    LeaseDurationOutOfRange(Duration),
    /// The candidate has no identity.
    #[error("lock identity is empty")]
    EmptyIdentity,
    /// The lease has no name.
    #[error("lease name is empty")]
    EmptyLeaseName,
}

/// Why [`LeaderElector::run`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    /// The warm-up work failed; the candidate never competed.
    #[error("warm-up before leader election failed: {0}")]
    WarmUp(#[source] BoxError),
    /// The leading work panicked. Leadership was given up (and the lease released when
    /// configured) before this was returned.
    #[error("the leading work panicked: {0}")]
    LeadingPanicked(String),
}

/// How [`LeaderElector::run`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Shutdown came before this candidate became leader.
    ShutdownWhileCandidate,
    /// Shutdown came while leading; the leading work was stopped and has finished.
    ShutdownWhileLeading {
        /// Whether the lease was released (`release_on_cancel` and the write succeeded).
        released: bool,
    },
    /// Leadership was lost: the lease could not be renewed within the renew deadline, or
    /// another holder was found. The leading work was stopped and has finished. Upstream
    /// components exit here and let a restart make them a candidate again.
    LostLeadership,
    /// The leading work finished by itself; leadership was given up.
    LeadingFinished {
        /// Whether the lease was released (`release_on_cancel` and the write succeeded).
        released: bool,
    },
}

/// What a candidate knows about the election, published on [`LeaderElector::subscribe`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderStatus {
    /// The holder of the lease last observed (upstream's `OnNewLeader` fires when it changes);
    /// `None` before the lease was read and while it has no holder.
    pub leader: Option<String>,
    /// Whether this candidate leads: true from the moment its leading work starts until it is
    /// told to stop (upstream's `OnStartedLeading` / `OnStoppedLeading`).
    pub is_leader: bool,
}

/// The leading work's view of its leadership: a cancellation signal that fires when leadership
/// ends (lost, or given up at shutdown).
#[derive(Clone, Debug)]
pub struct Leadership {
    ended: watch::Receiver<bool>,
    identity: Arc<str>,
}

impl Leadership {
    /// Waits until leadership ends. The leading work must then stop acting as leader and
    /// return promptly.
    ///
    /// # Cancel safety
    /// Cancel safe: it only waits.
    pub async fn lost(&self) {
        let mut ended = self.ended.clone();
        // A dropped sender means the elector is gone: leadership has ended too.
        let _ = ended.wait_for(|ended| *ended).await;
    }

    /// Whether leadership has ended.
    pub fn is_lost(&self) -> bool {
        *self.ended.borrow() || self.ended.has_changed().is_err()
    }

    /// This candidate's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }
}

/// Counters of an election, for the metrics the controller runtime exposes.
#[derive(Debug, Default)]
pub struct ElectionMetrics {
    attempts: AtomicU64,
    acquisitions: AtomicU64,
    renewals: AtomicU64,
    failed_attempts: AtomicU64,
    slow_path: AtomicU64,
    leadership_lost: AtomicU64,
    releases: AtomicU64,
    is_leader: AtomicBool,
}

impl ElectionMetrics {
    /// Attempts to acquire or renew the lease.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }
    /// Times this candidate became leader.
    pub fn acquisitions(&self) -> u64 {
        self.acquisitions.load(Ordering::Relaxed)
    }
    /// Successful renewals while leading.
    pub fn renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }
    /// Attempts that did not acquire or renew (the lease is held by another, or a request
    /// failed).
    pub fn failed_attempts(&self) -> u64 {
        self.failed_attempts.load(Ordering::Relaxed)
    }
    /// Renewals that had to read the lease first because the optimistic write failed
    /// (upstream's `leader_election_slowpath_total`).
    pub fn slow_path(&self) -> u64 {
        self.slow_path.load(Ordering::Relaxed)
    }
    /// Times leadership was lost (not given up at shutdown).
    pub fn leadership_lost(&self) -> u64 {
        self.leadership_lost.load(Ordering::Relaxed)
    }
    /// Times the lease was released.
    pub fn releases(&self) -> u64 {
        self.releases.load(Ordering::Relaxed)
    }
    /// Whether this candidate leads now (upstream's `leader_election_master_status`).
    pub fn is_leader(&self) -> bool {
        self.is_leader.load(Ordering::Relaxed)
    }
}

/// The election record kept in a Lease's spec (upstream's `LeaderElectionRecord`). Two
/// records are compared field by field to tell whether the holder renewed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderElectionRecord {
    /// `holderIdentity`; empty when nobody holds the lease.
    pub holder_identity: String,
    /// `leaseDurationSeconds`.
    pub lease_duration_seconds: i32,
    /// `acquireTime`.
    pub acquire_time: Option<MicroTime>,
    /// `renewTime`.
    pub renew_time: Option<MicroTime>,
    /// `leaseTransitions`.
    pub leader_transitions: i32,
}

impl LeaderElectionRecord {
    /// The record in a lease's spec (missing fields are empty or zero).
    pub fn from_spec(spec: Option<&LeaseSpec>) -> Self {
        let Some(spec) = spec else {
            return LeaderElectionRecord::default();
        };
        LeaderElectionRecord {
            holder_identity: spec.holder_identity.clone().unwrap_or_default(),
            lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
            acquire_time: spec.acquire_time,
            renew_time: spec.renew_time,
            leader_transitions: spec.lease_transitions.unwrap_or(0),
        }
    }

    /// The lease spec holding this record (every field written, the holder even when empty,
    /// as upstream writes it).
    pub fn to_spec(&self) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.holder_identity.clone()),
            lease_duration_seconds: Some(self.lease_duration_seconds),
            acquire_time: self.acquire_time,
            renew_time: self.renew_time,
            lease_transitions: Some(self.leader_transitions),
            ..LeaseSpec::default()
        }
    }
}

/// The lock: one Lease, and the identity this process competes under.
#[derive(Clone, Debug)]
pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    identity: Arc<str>,
}

impl LeaseLock {
    /// The lease `namespace/name`, competed for as `identity` (unique per process: upstream
    /// components use `<hostname>_<random UUID>`).
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str) -> Self {
        LeaseLock {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity: Arc::from(identity),
        }
    }

    /// The identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// `namespace/name`, for logs.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.api.namespace().unwrap_or_default(), self.name)
    }

    async fn get(&self) -> Result<Option<Lease>, kubernaut_client::Error> {
        self.api.get_opt(&self.name).await
    }

    async fn create(
        &self,
        record: &LeaderElectionRecord,
    ) -> Result<Lease, kubernaut_client::Error> {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: self.api.namespace().map(str::to_owned),
                ..ObjectMeta::default()
            },
            spec: Some(record.to_spec()),
        };
        self.api.create(&PostParams::default(), &lease).await
    }

    /// Writes `record` over `current`; the write fails with a conflict if the lease changed
    /// since `current` was read (its `resourceVersion` is sent along).
    async fn update(
        &self,
        current: &Lease,
        record: &LeaderElectionRecord,
    ) -> Result<Lease, kubernaut_client::Error> {
        let mut lease = current.clone();
        let mut spec = lease.spec.take().unwrap_or_default();
        let new = record.to_spec();
        spec.holder_identity = new.holder_identity;
        spec.lease_duration_seconds = new.lease_duration_seconds;
        spec.acquire_time = new.acquire_time;
        spec.renew_time = new.renew_time;
        spec.lease_transitions = new.lease_transitions;
        lease.spec = Some(spec);
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
    }
}

/// The lease as last observed, and when (on the monotonic clock) its record last changed.
struct Observed {
    record: LeaderElectionRecord,
    /// The lease object last read or written: its `resourceVersion` guards the next write.
    lease: Lease,
    at: Instant,
}

/// The result of one attempt.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// This candidate holds the lease (acquired or renewed).
    Held,
    /// Another holder's lease is valid.
    HeldByOther,
    /// A request failed; nothing is known.
    Failed,
}

/// A future that resolves when warm-up work has finished.
type WarmUp = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// One candidate in a leader election.
///
/// Build it with [`LeaderElector::new`], take a [`LeaderElector::subscribe`] receiver and
/// [`LeaderElector::metrics`] if wanted, then [`LeaderElector::run`] it.
pub struct LeaderElector {
    lock: LeaseLock,
    config: LeaderElectionConfig,
    /// `None` until the lease was first read or written.
    observed: Option<Observed>,
    status: watch::Sender<LeaderStatus>,
    metrics: Arc<ElectionMetrics>,
    warm_up: Option<WarmUp>,
    recorder: Option<Recorder>,
    rng: Rng,
}

impl std::fmt::Debug for LeaderElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("lock", &self.lock.describe())
            .field("identity", &self.lock.identity)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LeaderElector {
    /// A candidate for `lock`.
    ///
    /// # Errors
    /// The configuration breaks a rule of [`LeaderElectionConfig::validate`], or the lock has
    /// no identity or no lease name.
    pub fn new(lock: LeaseLock, config: LeaderElectionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        if lock.identity.is_empty() {
            return Err(ConfigError::EmptyIdentity);
        }
        if lock.name.is_empty() {
            return Err(ConfigError::EmptyLeaseName);
        }
        Ok(LeaderElector {
            lock,
            config,
            observed: None,
            status: watch::Sender::new(LeaderStatus::default()),
            metrics: Arc::new(ElectionMetrics::default()),
            warm_up: None,
            recorder: None,
            rng: Rng::seeded(),
        })
    }

    /// Runs `work` to completion before competing for the lease.
    ///
    /// The controller runtime uses this to warm its caches: it starts the shared informers of
    /// every controller and waits until each has listed its kind (the caches have synced), so
    /// that a candidate that wins starts reconciling at once instead of first reading
    /// everything, which would stretch the time without an active leader after a failover
    /// (controller-runtime's `EnableWarmup`). Reading is safe without leadership, and the
    /// informers keep the caches current while the candidate waits; only writes are reserved
    /// to the leader. A failed warm-up ends [`LeaderElector::run`] with
    /// [`ElectionError::WarmUp`].
    #[must_use]
    pub fn warm_up<F>(mut self, work: F) -> Self
    where
        F: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.warm_up = Some(Box::pin(work));
        self
    }

    /// Records upstream's `LeaderElection` events on the lease (`<identity> became leader`,
    /// `<identity> stopped leading`).
    #[must_use]
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The election's status: the observed leader and whether this candidate leads. A change
    /// of `leader` is upstream's `OnNewLeader`.
    pub fn subscribe(&self) -> watch::Receiver<LeaderStatus> {
        self.status.subscribe()
    }

    /// The election's counters.
    pub fn metrics(&self) -> Arc<ElectionMetrics> {
        Arc::clone(&self.metrics)
    }

    /// The identity this candidate competes under.
    pub fn identity(&self) -> &str {
        &self.lock.identity
    }

    /// Competes for the lease until `shutdown` resolves or leadership ends.
    ///
    /// 1. Runs the [`warm_up`](LeaderElector::warm_up) work, if any.
    /// 2. Tries to acquire the lease, then again every retry period plus a random part of up to
    ///    [`JITTER_FACTOR`] times it, until it succeeds.
    /// 3. Spawns `lead(leadership)` as a task (upstream's `OnStartedLeading`) and renews the
    ///    lease every retry period. When a renewal does not succeed within the renew deadline,
    ///    or another holder is found, leadership is lost.
    /// 4. When leadership ends (lost, `shutdown`, or the work returned by itself), fires
    ///    [`Leadership::lost`] and waits for the leading task to finish (it must return
    ///    promptly), then, with `release_on_cancel`, releases the lease.
    ///
    /// Dropping the returned future stops everything at once, the leading task included,
    /// without releasing the lease: the others take over when it expires.
    ///
    /// # Errors
    /// [`ElectionError::WarmUp`] when the warm-up work failed, [`ElectionError::LeadingPanicked`]
    /// when the leading task panicked.
    ///
    /// # Panics
    /// Needs a tokio runtime with its timer (it spawns the leading task).
    pub async fn run<S, F, Fut>(mut self, shutdown: S, lead: F) -> Result<Ended, ElectionError>
    where
        S: Future<Output = ()>,
        F: FnOnce(Leadership) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = pin!(shutdown);
        if let Some(work) = self.warm_up.take() {
            tokio::select! {
                done = work => done.map_err(ElectionError::WarmUp)?,
                () = &mut shutdown => return Ok(Ended::ShutdownWhileCandidate),
            }
        }
        let acquired = tokio::select! {
            () = self.acquire() => true,
            () = &mut shutdown => false,
        };
        if !acquired {
            // An attempt cut short by the shutdown may have taken the lease after all.
            if self.config.release_on_cancel {
                self.release_if_taken().await;
            }
            return Ok(Ended::ShutdownWhileCandidate);
        }

        let (ended_tx, ended_rx) = watch::channel(false);
        let leadership = Leadership {
            ended: ended_rx,
            identity: Arc::clone(&self.lock.identity),
        };
        self.metrics.acquisitions.fetch_add(1, Ordering::Relaxed);
        self.set_leading(true);
        tracing::info!(lease = %self.lock.describe(), identity = %self.lock.identity, "successfully acquired lease");
        self.record_event("became leader");
        let mut work = AbortOnDrop(tokio::spawn(lead(leadership)));

        #[derive(Clone, Copy, PartialEq, Eq)]
        enum Why {
            Shutdown,
            Lost,
            Finished,
        }
        let (why, finished) = {
            let renew = self.renew_loop();
            tokio::select! {
                () = &mut shutdown => (Why::Shutdown, None),
                () = renew => (Why::Lost, None),
                done = &mut work.0 => (Why::Finished, Some(done)),
            }
        };
        let _ = ended_tx.send(true);
        self.set_leading(false);
        let joined = match finished {
            Some(done) => done,
            None => (&mut work.0).await,
        };
        if why == Why::Lost {
            self.metrics.leadership_lost.fetch_add(1, Ordering::Relaxed);
            tracing::info!(lease = %self.lock.describe(), identity = %self.lock.identity, "failed to renew lease, stopped leading");
        }
        self.record_event("stopped leading");
        let released = self.config.release_on_cancel && self.release().await;
        if let Err(e) = joined
            && e.is_panic()
        {
            return Err(ElectionError::LeadingPanicked(panic_message(
                e.into_panic(),
            )));
        }
        Ok(match why {
            Why::Shutdown => Ended::ShutdownWhileLeading { released },
            Why::Lost => Ended::LostLeadership,
            Why::Finished => Ended::LeadingFinished { released },
        })
    }

    /// Tries until the lease is held: upstream's `acquire`, a sliding jittered loop.
    async fn acquire(&mut self) {
        tracing::info!(lease = %self.lock.describe(), "attempting to acquire leader lease");
        loop {
            // One attempt may not hang the loop: it is bounded like a renewal.
            let attempt =
                tokio::time::timeout(self.config.renew_deadline, self.try_acquire_or_renew())
                    .await
                    .unwrap_or(Attempt::Failed);
            self.report_transition();
            if attempt == Attempt::Held {
                return;
            }
            let wait = jittered(self.config.retry_period, JITTER_FACTOR, &mut self.rng);
            tokio::time::sleep(wait).await;
        }
    }

    /// Renews every retry period; returns when leadership is lost.
    async fn renew_loop(&mut self) {
        let mut last_renewal = self.observed.as_ref().map_or_else(Instant::now, |o| o.at);
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            let deadline = last_renewal + self.config.renew_deadline;
            loop {
                if Instant::now() >= deadline {
                    return;
                }
                let attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await;
                self.report_transition();
                match attempt {
                    Ok(Attempt::Held) => {
                        self.metrics.renewals.fetch_add(1, Ordering::Relaxed);
                        last_renewal = self.observed.as_ref().map_or_else(Instant::now, |o| o.at);
                        break;
                    }
                    Ok(Attempt::HeldByOther) | Err(_) => return,
                    Ok(Attempt::Failed) => {}
                }
                let next = (Instant::now() + self.config.retry_period).min(deadline);
                tokio::time::sleep_until(next).await;
            }
        }
    }

    /// One attempt to acquire or renew (upstream's `tryAcquireOrRenew`).
    async fn try_acquire_or_renew(&mut self) -> Attempt {
        self.metrics.attempts.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let duration = self.config.lease_duration_seconds();
        let wall = MicroTime::now();

        // 1. The leader renews optimistically, assuming the lease is as it last saw it.
        if self.is_holder()
            && self.lease_valid(now)
            && let Some(observed) = &self.observed
        {
            let record = LeaderElectionRecord {
                holder_identity: self.lock.identity.to_string(),
                lease_duration_seconds: duration,
                acquire_time: observed.record.acquire_time,
                renew_time: Some(after(observed.record.renew_time, wall)),
                leader_transitions: observed.record.leader_transitions,
            };
            match self.lock.update(&observed.lease, &record).await {
                Ok(lease) => {
                    self.observe(record, lease);
                    return Attempt::Held;
                }
                Err(e) => {
                    tracing::debug!(lease = %self.lock.describe(), error = %e, "failed to update lease optimistically, falling back to slow path");
                }
            }
        }

        // 2. Read the lease, or create it.
        let lease = match self.lock.get().await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                let record = LeaderElectionRecord {
                    holder_identity: self.lock.identity.to_string(),
                    lease_duration_seconds: duration,
                    acquire_time: Some(wall),
                    renew_time: Some(wall),
                    leader_transitions: 0,
                };
                return match self.lock.create(&record).await {
                    Ok(lease) => {
                        self.observe(record, lease);
                        Attempt::Held
                    }
                    Err(e) => {
                        tracing::debug!(lease = %self.lock.describe(), error = %e, "error initially creating lease");
                        self.metrics.failed_attempts.fetch_add(1, Ordering::Relaxed);
                        Attempt::Failed
                    }
                };
            }
            Err(e) => {
                tracing::debug!(lease = %self.lock.describe(), error = %e, "error retrieving lease");
                self.metrics.failed_attempts.fetch_add(1, Ordering::Relaxed);
                return Attempt::Failed;
            }
        };

        // 3. A changed record restarts the expiry clock.
        let current = LeaderElectionRecord::from_spec(lease.spec.as_ref());
        match &mut self.observed {
            Some(observed) if observed.record == current => observed.lease = lease.clone(),
            _ => self.observe(current.clone(), lease.clone()),
        }
        if !current.holder_identity.is_empty() && self.lease_valid(now) && !self.is_holder() {
            tracing::trace!(lease = %self.lock.describe(), holder = %current.holder_identity, "lease is held by another and has not yet expired");
            self.metrics.failed_attempts.fetch_add(1, Ordering::Relaxed);
            return Attempt::HeldByOther;
        }

        // 4. Take it (or renew it after a failed optimistic write).
        let record = if self.is_holder() {
            self.metrics.slow_path.fetch_add(1, Ordering::Relaxed);
            LeaderElectionRecord {
                holder_identity: self.lock.identity.to_string(),
                lease_duration_seconds: duration,
                acquire_time: current.acquire_time,
                renew_time: Some(after(current.renew_time, wall)),
                leader_transitions: current.leader_transitions,
            }
        } else {
            LeaderElectionRecord {
                holder_identity: self.lock.identity.to_string(),
                lease_duration_seconds: duration,
                acquire_time: Some(after(current.renew_time, wall)),
                renew_time: Some(after(current.renew_time, wall)),
                leader_transitions: current.leader_transitions.saturating_add(1),
            }
        };
        match self.lock.update(&lease, &record).await {
            Ok(lease) => {
                self.observe(record, lease);
                Attempt::Held
            }
            Err(e) => {
                tracing::debug!(lease = %self.lock.describe(), error = %e, "failed to update lease");
                self.metrics.failed_attempts.fetch_add(1, Ordering::Relaxed);
                Attempt::Failed
            }
        }
    }

    /// Gives the lease up: no holder, a one-second duration, the transitions kept. Only when
    /// this candidate is the holder last observed, and only if nobody wrote the lease since
    /// (the write is guarded by its resource version).
    async fn release(&mut self) -> bool {
        if !self.is_holder() {
            return true;
        }
        let Some(observed) = &self.observed else {
            return true;
        };
        let now = after(observed.record.renew_time, MicroTime::now());
        let record = LeaderElectionRecord {
            holder_identity: String::new(),
            lease_duration_seconds: 1,
            acquire_time: Some(now),
            renew_time: Some(now),
            leader_transitions: observed.record.leader_transitions,
        };
        let lock = &self.lock;
        let update = async {
            match lock.update(&observed.lease, &record).await {
                // A renewal cut short by the shutdown may have been written after all: the
                // lease is still ours if it still names this candidate.
                Err(e) if e.is_conflict() => match lock.get().await? {
                    Some(lease)
                        if LeaderElectionRecord::from_spec(lease.spec.as_ref()).holder_identity
                            == *lock.identity =>
                    {
                        lock.update(&lease, &record).await
                    }
                    _ => Err(e),
                },
                other => other,
            }
        };
        match tokio::time::timeout(self.config.renew_deadline, update).await {
            Ok(Ok(lease)) => {
                self.observe(record, lease);
                self.report_transition();
                self.metrics.releases.fetch_add(1, Ordering::Relaxed);
                tracing::info!(lease = %self.lock.describe(), "released lease");
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(lease = %self.lock.describe(), error = %e, "failed to release lease");
                false
            }
            Err(_) => {
                tracing::warn!(lease = %self.lock.describe(), "timed out releasing lease");
                false
            }
        }
    }

    /// Reads the lease and releases it if it names this candidate.
    async fn release_if_taken(&mut self) {
        let read = tokio::time::timeout(self.config.renew_deadline, self.lock.get()).await;
        if let Ok(Ok(Some(lease))) = read {
            let record = LeaderElectionRecord::from_spec(lease.spec.as_ref());
            if record.holder_identity == *self.lock.identity {
                self.observe(record, lease);
                self.release().await;
            }
        }
    }

    /// Notes `record` (and the lease that carries it) as observed now.
    fn observe(&mut self, record: LeaderElectionRecord, lease: Lease) {
        self.observed = Some(Observed {
            record,
            lease,
            at: Instant::now(),
        });
    }

    /// Whether the holder last observed is this candidate (upstream's `IsLeader`).
    fn is_holder(&self) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|o| o.record.holder_identity == *self.lock.identity)
    }

    /// Whether the lease last observed has not expired at `now`: its record changed less than
    /// its `leaseDurationSeconds` ago.
    fn lease_valid(&self, now: Instant) -> bool {
        self.observed.as_ref().is_some_and(|o| {
            let seconds = u64::try_from(o.record.lease_duration_seconds).unwrap_or(0);
            o.at + Duration::from_secs(seconds) > now
        })
    }

    /// Publishes a change of the observed holder (upstream's `maybeReportTransition`).
    fn report_transition(&self) {
        let holder = self
            .observed
            .as_ref()
            .map(|o| o.record.holder_identity.clone())
            .filter(|h| !h.is_empty());
        self.status.send_if_modified(|status| {
            if status.leader == holder {
                return false;
            }
            tracing::info!(lease = %self.lock.describe(), leader = ?holder, "new leader observed");
            status.leader = holder;
            true
        });
    }

    fn set_leading(&self, leading: bool) {
        self.metrics.is_leader.store(leading, Ordering::Relaxed);
        self.status.send_if_modified(|status| {
            let changed = status.is_leader != leading;
            status.is_leader = leading;
            changed
        });
    }

    /// Records `<identity> <what>` on the lease, as upstream's lock does.
    fn record_event(&self, what: &str) {
        let (Some(recorder), Some(observed)) = (&self.recorder, &self.observed) else {
            return;
        };
        recorder.record(
            &object_reference(&observed.lease),
            EventType::Normal,
            "LeaderElection",
            &format!("{} {what}", self.lock.identity),
        );
    }
}

/// A renew time after `previous`: now, or a microsecond after `previous` when the wall clock
/// has not passed it, so that every write is a change other candidates see.
fn after(previous: Option<MicroTime>, now: MicroTime) -> MicroTime {
    match previous {
        Some(p) if p.0 >= now.0 => MicroTime(p.0 + chrono::TimeDelta::microseconds(1)),
        _ => now,
    }
}

/// Aborts the task when dropped, so that dropping [`LeaderElector::run`] stops the leading work.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not text".to_owned()
    }
}

/// `duration` plus a random part of up to `max_factor` times it (upstream's `wait.Jitter`).
pub(crate) fn jittered(duration: Duration, max_factor: f64, rng: &mut Rng) -> Duration {
    duration + duration.mul_f64(max_factor * rng.next_f64())
}

/// A small pseudo-random generator for jitter (SplitMix64), seeded from the standard library's
/// per-process random hasher keys: no dependency, and no two generators start alike.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn seeded() -> Rng {
        use std::hash::{BuildHasher, Hasher};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        Rng(hasher.finish())
    }

    /// A number in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits, as a fraction.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests;
