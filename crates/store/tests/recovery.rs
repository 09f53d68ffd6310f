//! Recovery from damaged files, and backup/restore, through the public API.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use kubernaut_store::embedded::{Config, EmbeddedStore, restore};
use kubernaut_store::{Backend, BackendExt, ListOptions, ReadAt, StoreError};

fn config(dir: &Path) -> Config {
    let mut c = Config::durable(dir);
    c.preallocate = false;
    c.snapshot_records = u64::MAX;
    c.snapshot_bytes = u64::MAX;
    c
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("wal-"))
        .collect();
    segs.sort();
    segs
}

async fn write_keys(store: &EmbeddedStore, n: usize) -> Vec<i64> {
    let mut revs = Vec::new();
    for i in 0..n {
        revs.push(
            store
                .put(&format!("/k/{i:04}"), Bytes::from(vec![b'v'; 100]))
                .await
                .unwrap(),
        );
    }
    revs
}

#[tokio::test]
async fn a_torn_tail_loses_only_the_torn_write() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(config(dir.path())).unwrap();
        write_keys(&store, 20).await;
    }
    let seg = segments(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    // Cut the last record in half.
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 60).unwrap();
    drop(f);
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    assert_eq!(store.revision(), 19);
    assert!(
        store
            .get("/k/0019", ReadAt::Latest)
            .await
            .unwrap()
            .kv
            .is_none()
    );
    assert!(
        store
            .get("/k/0018", ReadAt::Latest)
            .await
            .unwrap()
            .kv
            .is_some()
    );
    // Writing continues at the next revision.
    assert_eq!(
        store
            .put("/k/after", Bytes::from_static(b"x"))
            .await
            .unwrap(),
        20
    );
}

#[tokio::test]
async fn a_damaged_record_before_the_tail_stops_the_open_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(config(dir.path())).unwrap();
        write_keys(&store, 20).await;
    }
    let seg = segments(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    match EmbeddedStore::open(config(dir.path())) {
        Err(StoreError::Corrupt { file, offset, .. }) => {
            assert_eq!(file, seg);
            assert!(
                offset <= at as u64,
                "offset {offset} is after the damage at {at}"
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn backup_then_restore_gives_identical_contents_and_revision() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    write_keys(&store, 50).await;
    store.delete("/k/0007", None).await.unwrap();
    let backup = dir.path().join("backup.snap");
    let revision = store.backup(&backup).unwrap();
    // Writes after the backup are not in it.
    store
        .put("/k/late", Bytes::from_static(b"late"))
        .await
        .unwrap();
    let at = ListOptions {
        at: ReadAt::Revision(revision),
        ..ListOptions::default()
    };
    let original = store.list("/", at).await.unwrap();

    let target = tempfile::tempdir().unwrap();
    let restored_dir = target.path().join("data");
    assert_eq!(restore(&backup, &restored_dir).unwrap(), revision);
    let restored = EmbeddedStore::open(config(&restored_dir)).unwrap();
    assert_eq!(restored.revision(), revision);
    let copy = restored.list("/", ListOptions::default()).await.unwrap();
    assert_eq!(copy.kvs, original.kvs);
    assert!(
        restored
            .get("/k/late", ReadAt::Latest)
            .await
            .unwrap()
            .kv
            .is_none()
    );
    // History came along: a read at an older revision still works.
    let old = restored
        .get("/k/0007", ReadAt::Revision(revision - 1))
        .await
        .unwrap();
    assert!(old.kv.is_some());
    // The restored store keeps counting from there.
    assert_eq!(
        restored.put("/k/next", Bytes::new()).await.unwrap(),
        revision + 1
    );

    // Restore refuses a directory that is in use.
    assert!(matches!(
        restore(&backup, dir.path()),
        Err(StoreError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn history_and_compaction_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(config(dir.path())).unwrap();
        let revs = write_keys(&store, 10).await;
        store
            .put("/k/0000", Bytes::from_static(b"new"))
            .await
            .unwrap();
        store.compact(revs[2]).await.unwrap();
    }
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    let (current, compacted) = store.revisions().await.unwrap();
    assert_eq!((current, compacted), (11, 3));
    let old = store
        .get("/k/0000", ReadAt::Revision(5))
        .await
        .unwrap()
        .kv
        .unwrap();
    assert_eq!(old.value, Bytes::from(vec![b'v'; 100]));
    assert!(matches!(
        store.get("/k/0000", ReadAt::Revision(2)).await,
        Err(StoreError::Compacted { .. })
    ));
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _store = EmbeddedStore::open(config(dir.path())).unwrap();
    assert!(EmbeddedStore::open(config(dir.path())).is_err());
}

#[tokio::test]
async fn close_releases_the_directory_while_handles_live_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(EmbeddedStore::open(config(dir.path())).unwrap());
    write_keys(&store, 3).await;
    // A handle kept by someone else (a lingering request, a watch) must not pin the directory.
    let lingering = std::sync::Arc::clone(&store);
    store.close();
    assert!(matches!(
        lingering.put("/k/late", Bytes::from_static(b"v")).await,
        Err(StoreError::Unavailable { .. })
    ));
    let reopened = EmbeddedStore::open(config(dir.path())).unwrap();
    assert_eq!(reopened.revision(), 3);
}
