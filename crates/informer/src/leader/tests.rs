//! Leader election against a real in-process API server, on tokio's paused clock.

use std::sync::Arc;
use std::time::Duration;

use kubernaut_api_types::coordination::v1::Lease;
use kubernaut_client::{Api, Client, PostParams};
use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};

use super::*;
use crate::test_server::TestServer;

const LEASE: &str = "test-lease";

/// The longest wait between a candidate's attempts.
fn max_retry_wait() -> Duration {
    DEFAULT_RETRY_PERIOD.mul_f64(1.0 + JITTER_FACTOR)
}

/// What the leading work of a candidate saw, with virtual timestamps.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Started(Instant),
    Stopped(Instant),
}

/// A candidate running in a task of its own.
struct Candidate {
    handle: JoinHandle<Result<Ended, ElectionError>>,
    status: watch::Receiver<LeaderStatus>,
    metrics: Arc<ElectionMetrics>,
    shutdown: Option<oneshot::Sender<()>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Candidate {
    fn spawn(client: Client, identity: &str, config: LeaderElectionConfig) -> Candidate {
        let lock = LeaseLock::new(client, "default", LEASE, identity);
        Candidate::spawn_elector(LeaderElector::new(lock, config).expect("valid config"))
    }

    fn spawn_elector(elector: LeaderElector) -> Candidate {
        let status = elector.subscribe();
        let metrics = elector.metrics();
        let (shutdown, stop) = oneshot::channel::<()>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let handle = tokio::spawn(elector.run(
            async move {
                let _ = stop.await;
            },
            move |leadership: Leadership| async move {
                log.lock().push(Seen::Started(Instant::now()));
                leadership.lost().await;
                assert!(leadership.is_lost());
                log.lock().push(Seen::Stopped(Instant::now()));
            },
        ));
        Candidate {
            handle,
            status,
            metrics,
            shutdown: Some(shutdown),
            seen,
        }
    }

    fn is_leader(&self) -> bool {
        self.status.borrow().is_leader
    }

    /// Waits (on virtual time) until this candidate leads; returns when it started.
    async fn until_leading(&mut self, within: Duration) -> Instant {
        timeout(within, self.status.wait_for(|s| s.is_leader))
            .await
            .expect("becomes leader in time")
            .expect("elector alive");
        Instant::now()
    }

    async fn shut_down(&mut self) -> Result<Ended, ElectionError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.handle).await.expect("elector task")
    }
}

async fn lease(client: &Client) -> Lease {
    Api::<Lease>::namespaced(client.clone(), "default")
        .get(LEASE)
        .await
        .expect("lease exists")
}

fn holder(lease: &Lease) -> Option<&str> {
    lease.spec.as_ref()?.holder_identity.as_deref()
}

fn transitions(lease: &Lease) -> Option<i32> {
    lease.spec.as_ref()?.lease_transitions
}

#[tokio::test(start_paused = true)]
async fn exactly_one_candidate_leads_and_the_other_takes_over_within_the_lease_duration_when_it_dies()
 {
    let server = TestServer::start().await;
    let client = server.client();
    let config = LeaderElectionConfig::default();
    let mut a = Candidate::spawn(server.client(), "a", config.clone());
    a.until_leading(Duration::from_secs(1)).await;
    let created = lease(&client).await;
    assert_eq!(holder(&created), Some("a"));
    assert_eq!(transitions(&created), Some(0));
    assert_eq!(
        created.spec.as_ref().unwrap().lease_duration_seconds,
        Some(15)
    );

    let mut b = Candidate::spawn(server.client(), "b", config.clone());
    b.status
        .wait_for(|s| s.leader.as_deref() == Some("a"))
        .await
        .expect("b observes a");
    // A minute of virtual time: a renews every retry period, b never leads.
    for _ in 0..60 {
        sleep(Duration::from_secs(1)).await;
        assert!(a.is_leader(), "a keeps leading");
        assert!(!b.is_leader(), "b never leads while a renews");
    }
    assert!(a.metrics.renewals() >= 25, "{}", a.metrics.renewals());
    assert_eq!(a.metrics.acquisitions(), 1);
    assert!(b.metrics.failed_attempts() >= 10);
    assert_eq!(holder(&lease(&client).await), Some("a"));

    // Kill a: no release, the lease is left to expire.
    a.handle.abort();
    assert!(a.handle.await.unwrap_err().is_cancelled());
    let killed = Instant::now();
    let took_over = b.until_leading(Duration::from_secs(60)).await;
    let waited = took_over - killed;
    // b takes over once it has seen no change for the lease duration: the last renewal was
    // at most a retry period before the kill, and b looks at most every jittered retry
    // period.
    assert!(
        waited >= config.lease_duration - config.retry_period,
        "b took over {waited:?} after the kill, before the lease could expire"
    );
    assert!(
        waited <= config.lease_duration + max_retry_wait() * 2,
        "b took over {waited:?} after the kill"
    );
    let taken = lease(&client).await;
    assert_eq!(holder(&taken), Some("b"));
    assert_eq!(transitions(&taken), Some(1), "a takeover is a transition");
    assert_eq!(b.status.borrow().leader.as_deref(), Some("b"));
    // a's leading work was aborted with it: it never saw a loss it could act on.
    assert_eq!(a.seen.lock().len(), 1);
    assert_eq!(
        b.shut_down().await.unwrap(),
        Ended::ShutdownWhileLeading { released: false }
    );
}

#[tokio::test(start_paused = true)]
async fn release_on_cancel_hands_the_lease_over_at_the_next_attempt() {
    let server = TestServer::start().await;
    let client = server.client();
    let config = LeaderElectionConfig {
        release_on_cancel: true,
        ..LeaderElectionConfig::default()
    };
    let mut a = Candidate::spawn(server.client(), "a", config.clone());
    a.until_leading(Duration::from_secs(1)).await;
    let mut b = Candidate::spawn(server.client(), "b", config.clone());
    sleep(Duration::from_secs(20)).await;
    assert!(a.is_leader() && !b.is_leader());

    let ended = a.shut_down().await.expect("clean end");
    let released = Instant::now();
    assert_eq!(ended, Ended::ShutdownWhileLeading { released: true });
    // The leading work had stopped before the lease was released.
    let seen = a.seen.lock().clone();
    assert!(matches!(seen.as_slice(), [Seen::Started(_), Seen::Stopped(t)] if *t <= released));
    assert_eq!(a.metrics.releases(), 1);
    let free = lease(&client).await;
    assert_eq!(holder(&free), Some(""), "the holder is cleared");
    assert_eq!(free.spec.as_ref().unwrap().lease_duration_seconds, Some(1));

    let took_over = b.until_leading(Duration::from_secs(60)).await;
    assert!(
        took_over - released <= max_retry_wait(),
        "b took {:?} to take a released lease",
        took_over - released
    );
    let taken = lease(&client).await;
    assert_eq!(holder(&taken), Some("b"));
    assert_eq!(transitions(&taken), Some(1));
    assert_eq!(
        taken.spec.as_ref().unwrap().lease_duration_seconds,
        Some(15)
    );
}

#[tokio::test(start_paused = true)]
async fn a_leader_whose_lease_was_taken_by_force_stops_leading_by_the_renew_deadline() {
    let server = TestServer::start().await;
    let client = server.client();
    let config = LeaderElectionConfig::default();
    let mut a = Candidate::spawn(server.client(), "a", config.clone());
    a.until_leading(Duration::from_secs(1)).await;
    sleep(Duration::from_secs(5)).await;

    // Someone writes the lease over a's head.
    let mut forced = lease(&client).await;
    let spec = forced.spec.as_mut().unwrap();
    spec.holder_identity = Some("intruder".to_owned());
    spec.renew_time = Some(MicroTime::now());
    Api::<Lease>::namespaced(client.clone(), "default")
        .replace(LEASE, &PostParams::default(), &forced)
        .await
        .expect("forced write");
    let taken = Instant::now();

    let ended = timeout(config.renew_deadline, &mut a.handle)
        .await
        .expect("a stops leading by the renew deadline")
        .expect("elector task")
        .expect("clean end");
    assert_eq!(ended, Ended::LostLeadership);
    let seen = a.seen.lock().clone();
    assert!(
        matches!(seen.as_slice(), [Seen::Started(_), Seen::Stopped(t)] if *t - taken <= config.renew_deadline),
        "{seen:?}"
    );
    assert!(!a.is_leader());
    assert_eq!(a.status.borrow().leader.as_deref(), Some("intruder"));
    assert_eq!(a.metrics.leadership_lost(), 1);
    assert!(!a.metrics.is_leader());
    // a stopped without touching the lease.
    assert_eq!(holder(&lease(&client).await), Some("intruder"));
}

#[tokio::test(start_paused = true)]
async fn a_leader_cut_off_from_the_server_stops_leading_exactly_at_the_renew_deadline() {
    let server = TestServer::start().await;
    let client = server.client();
    let config = LeaderElectionConfig::default();
    let (a_client, link) = server.connect();
    let mut a = Candidate::spawn(a_client, "a", config.clone());
    a.until_leading(Duration::from_secs(1)).await;
    // Wait for a renewal, then cut a off right after it.
    let renewals = a.metrics.renewals();
    while a.metrics.renewals() == renewals {
        sleep(Duration::from_millis(100)).await;
    }
    // Renewals succeed on whole retry periods; the polling above overshoots by < 100 ms.
    let renewed = Instant::now();
    link.cut();

    let ended = (&mut a.handle)
        .await
        .expect("elector task")
        .expect("clean end");
    let lost = Instant::now();
    assert_eq!(ended, Ended::LostLeadership);
    let after_renewal = lost - renewed;
    assert!(
        after_renewal + Duration::from_millis(100) >= config.renew_deadline
            && after_renewal <= config.renew_deadline,
        "lost leadership {after_renewal:?} after the last renewal"
    );
    assert!(
        a.metrics.failed_attempts() >= 4,
        "it kept trying until the deadline"
    );
    // Nobody else wrote the lease: it still names a, and expires on its own.
    link.restore();
    assert_eq!(holder(&lease(&client).await), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn a_candidate_restarted_under_the_same_identity_resumes_at_once() {
    let server = TestServer::start().await;
    let client = server.client();
    let config = LeaderElectionConfig::default();
    let mut first = Candidate::spawn(server.client(), "a", config.clone());
    first.until_leading(Duration::from_secs(1)).await;
    sleep(Duration::from_secs(7)).await;
    first.handle.abort();
    let _ = (&mut first.handle).await;

    let restarted = Instant::now();
    let mut again = Candidate::spawn(server.client(), "a", config);
    let leading = again.until_leading(Duration::from_secs(60)).await;
    assert_eq!(
        leading, restarted,
        "the holder does not wait for its own lease"
    );
    let lease = lease(&client).await;
    assert_eq!(holder(&lease), Some("a"));
    assert_eq!(transitions(&lease), Some(0), "no transition to oneself");
    assert_eq!(
        again.metrics.slow_path(),
        1,
        "it read the lease before renewing it"
    );
}

#[tokio::test(start_paused = true)]
async fn warm_up_finishes_before_the_candidate_competes() {
    let server = TestServer::start().await;
    let leases = Api::<Lease>::namespaced(server.client(), "default");
    let lock = LeaseLock::new(server.client(), "default", LEASE, "a");
    let warmed = Arc::new(Mutex::new(None));
    let mark = Arc::clone(&warmed);
    let elector = LeaderElector::new(lock, LeaderElectionConfig::default())
        .expect("valid")
        .warm_up(async move {
            sleep(Duration::from_secs(30)).await;
            // Still warming: the candidate has not touched the lease.
            assert!(leases.get_opt(LEASE).await?.is_none());
            *mark.lock() = Some(Instant::now());
            Ok::<(), BoxError>(())
        });
    let started = Instant::now();
    let mut a = Candidate::spawn_elector(elector);
    let leading = a.until_leading(Duration::from_secs(60)).await;
    let warmed = warmed.lock().expect("warm-up ran");
    assert_eq!(warmed - started, Duration::from_secs(30));
    assert!(leading >= warmed);

    // A failed warm-up ends the election before it began.
    let lock = LeaseLock::new(server.client(), "default", "other-lease", "b");
    let failing = LeaderElector::new(lock, LeaderElectionConfig::default())
        .expect("valid")
        .warm_up(async { Err::<(), BoxError>("the caches did not sync".into()) });
    let ended = failing.run(std::future::pending(), |_| async {}).await;
    assert!(
        matches!(&ended, Err(ElectionError::WarmUp(e)) if e.to_string() == "the caches did not sync"),
        "{ended:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn leading_work_that_returns_gives_leadership_up() {
    let server = TestServer::start().await;
    let client = server.client();
    let lock = LeaseLock::new(server.client(), "default", LEASE, "a");
    let config = LeaderElectionConfig {
        release_on_cancel: true,
        ..LeaderElectionConfig::default()
    };
    let recorder = Recorder::new(client.clone(), crate::events::Reporter::new("test"));
    let elector = LeaderElector::new(lock, config)
        .expect("valid")
        .with_recorder(recorder.clone());
    let status = elector.subscribe();
    let ended = elector
        .run(std::future::pending(), |_| async {
            sleep(Duration::from_secs(3)).await;
        })
        .await
        .expect("clean end");
    assert_eq!(ended, Ended::LeadingFinished { released: true });
    assert!(!status.borrow().is_leader);
    assert_eq!(status.borrow().leader, None, "released: nobody holds it");
    let released = lease(&client).await;
    assert_eq!(holder(&released), Some(""));

    // Upstream's events on the lease.
    recorder.flush().await;
    let selector = format!(
        "involvedObject.kind=Lease,involvedObject.name={LEASE},involvedObject.uid={}",
        released.metadata.uid.as_deref().unwrap()
    );
    let mut events =
        Api::<kubernaut_api_types::core::v1::Event>::namespaced(client.clone(), "default")
            .list(&kubernaut_client::ListParams::default().fields(&selector))
            .await
            .expect("events")
            .items;
    events.sort_by_key(|e| e.metadata.creation_timestamp);
    let messages: Vec<_> = events
        .iter()
        .map(|e| e.message.as_deref().unwrap())
        .collect();
    assert_eq!(messages, ["a became leader", "a stopped leading"]);
    assert!(
        events
            .iter()
            .all(|e| e.reason.as_deref() == Some("LeaderElection"))
    );

    // A panic in the leading work is reported, after leadership was given up.
    let lock = LeaseLock::new(server.client(), "default", "other-lease", "a");
    let elector = LeaderElector::new(lock, LeaderElectionConfig::default()).expect("valid");
    let ended = elector
        .run(std::future::pending(), |_| async {
            panic!("reconciler bug")
        })
        .await;
    assert!(
        matches!(&ended, Err(ElectionError::LeadingPanicked(m)) if m == "reconciler bug"),
        "{ended:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_releases_a_lease_that_names_the_candidate_whenever_it_comes() {
    let server = TestServer::start().await;
    let client = server.client();
    // A previous incarnation of `a` holds the lease.
    let record = LeaderElectionRecord {
        holder_identity: "a".into(),
        lease_duration_seconds: 15,
        acquire_time: Some(MicroTime::now()),
        renew_time: Some(MicroTime::now()),
        leader_transitions: 4,
    };
    LeaseLock::new(client.clone(), "default", LEASE, "a")
        .create(&record)
        .await
        .expect("lease");
    let config = LeaderElectionConfig {
        release_on_cancel: true,
        ..LeaderElectionConfig::default()
    };
    let lock = LeaseLock::new(client.clone(), "default", LEASE, "a");
    let elector = LeaderElector::new(lock, config).expect("valid");
    // Shutdown is ready at once: it wins against the first attempt, or comes right after it.
    let ended = elector
        .run(std::future::ready(()), |_| async {})
        .await
        .expect("clean end");
    assert!(
        matches!(
            ended,
            Ended::ShutdownWhileCandidate | Ended::ShutdownWhileLeading { released: true }
        ),
        "{ended:?}"
    );
    let released = lease(&client).await;
    assert_eq!(holder(&released), Some(""));
    assert_eq!(transitions(&released), Some(4));
}

#[tokio::test(start_paused = true)]
async fn shutdown_before_leading_leaves_the_lease_alone() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut a = Candidate::spawn(server.client(), "a", LeaderElectionConfig::default());
    a.until_leading(Duration::from_secs(1)).await;
    let mut b = Candidate::spawn(
        server.client(),
        "b",
        LeaderElectionConfig {
            release_on_cancel: true,
            ..LeaderElectionConfig::default()
        },
    );
    sleep(Duration::from_secs(5)).await;
    assert_eq!(b.shut_down().await.unwrap(), Ended::ShutdownWhileCandidate);
    assert!(b.seen.lock().is_empty());
    assert_eq!(holder(&lease(&client).await), Some("a"));
    assert!(a.is_leader());
}

#[test]
fn configurations_are_validated_with_upstream_rules() {
    let base = LeaderElectionConfig::default();
    assert_eq!(base.validate(), Ok(()));
    let secs = Duration::from_secs;
    let with = |lease: Duration, renew: Duration, retry: Duration| LeaderElectionConfig {
        lease_duration: lease,
        renew_deadline: renew,
        retry_period: retry,
        ..base.clone()
    };
    assert_eq!(
        with(secs(10), secs(10), secs(2)).validate(),
        Err(ConfigError::LeaseDurationNotAboveRenewDeadline {
            lease_duration: secs(10),
            renew_deadline: secs(10)
        })
    );
    // 10 s is not above 1.2 * 9 s.
    let err = with(secs(15), secs(10), secs(9)).validate().unwrap_err();
    assert!(matches!(
        err,
        ConfigError::RenewDeadlineNotAboveJitteredRetryPeriod { .. }
    ));
    assert_eq!(
        err.to_string(),
        "renew deadline must be greater than retry period * 1.2 (10s <= 9s * 1.2)"
    );
    // Exactly 1.2 times is refused too; just above is fine.
    assert!(
        with(secs(15), Duration::from_millis(2400), secs(2))
            .validate()
            .is_err()
    );
    assert!(
        with(secs(15), Duration::from_millis(2401), secs(2))
            .validate()
            .is_ok()
    );
    assert_eq!(
        with(secs(15), secs(10), Duration::ZERO).validate(),
        Err(ConfigError::ZeroRetryPeriod)
    );
    assert_eq!(
        with(
            Duration::from_millis(900),
            Duration::from_millis(500),
            Duration::from_millis(100)
        )
        .validate(),
        Err(ConfigError::LeaseDurationOutOfRange(Duration::from_millis(
            900
        )))
    );
    let huge = secs(u64::from(u32::MAX));
    assert!(matches!(
        with(huge, secs(10), secs(2)).validate(),
        Err(ConfigError::LeaseDurationOutOfRange(_))
    ));
}

#[tokio::test]
async fn candidates_need_an_identity_and_a_lease_name() {
    let client = TestServer::start().await.client();
    let config = LeaderElectionConfig::default();
    let no_identity = LeaseLock::new(client.clone(), "default", LEASE, "");
    assert_eq!(
        LeaderElector::new(no_identity, config.clone()).unwrap_err(),
        ConfigError::EmptyIdentity
    );
    let no_name = LeaseLock::new(client, "default", "", "a");
    assert_eq!(
        LeaderElector::new(no_name, config).unwrap_err(),
        ConfigError::EmptyLeaseName
    );
}

#[test]
fn renew_times_always_move_forward() {
    let now = MicroTime::now();
    assert_eq!(after(None, now), now);
    let earlier = MicroTime(now.0 - chrono::TimeDelta::seconds(5));
    assert_eq!(after(Some(earlier), now), now);
    // A previous renewal at or after now (a clock that stood still or stepped back, or a
    // holder whose clock runs ahead) is passed by a microsecond.
    assert_eq!(
        after(Some(now), now).0 - now.0,
        chrono::TimeDelta::microseconds(1)
    );
    let later = MicroTime(now.0 + chrono::TimeDelta::seconds(60));
    assert!(after(Some(later), now) > later);
}

#[test]
fn records_round_trip_through_lease_specs() {
    let record = LeaderElectionRecord {
        holder_identity: "a".into(),
        lease_duration_seconds: 15,
        acquire_time: Some(MicroTime::now()),
        renew_time: Some(MicroTime::now()),
        leader_transitions: 3,
    };
    assert_eq!(
        LeaderElectionRecord::from_spec(Some(&record.to_spec())),
        record
    );
    assert_eq!(
        LeaderElectionRecord::from_spec(None),
        LeaderElectionRecord::default()
    );
    // A released lease keeps an explicit empty holder, as upstream writes it.
    let released = LeaderElectionRecord {
        holder_identity: String::new(),
        ..record
    };
    assert_eq!(released.to_spec().holder_identity.as_deref(), Some(""));
}

proptest::proptest! {
    /// Jitter stays within `[d, d * (1 + factor))`, whatever the generator's state.
    #[test]
    fn jitter_stays_within_its_factor(seed in proptest::prelude::any::<u64>(), millis in 1u64..100_000) {
        let mut rng = Rng(seed);
        let d = Duration::from_millis(millis);
        for _ in 0..16 {
            let j = jittered(d, JITTER_FACTOR, &mut rng);
            proptest::prop_assert!(j >= d);
            proptest::prop_assert!(j < d.mul_f64(1.0 + JITTER_FACTOR) + Duration::from_nanos(1));
        }
    }
}
