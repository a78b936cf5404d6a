//! A conformance suite every [`StateBackend`] passes: one copy of the
//! contract's tests, run by each backend's test module against a fresh,
//! empty instance (memory, sled, PostgreSQL).

use std::collections::BTreeMap;

use bytes::Bytes;

use super::StateBackend;

fn b(x: &[u8]) -> Bytes {
    Bytes::copy_from_slice(x)
}

/// A value of `len` bytes whose content depends on `seed` and the position,
/// so a truncated or shifted value never compares equal.
pub(crate) fn patterned(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8)).collect()
}

/// Single-key get/put/delete/contains/count/clear.
pub(crate) async fn crud(be: &dyn StateBackend) {
    assert_eq!(be.count().await.unwrap(), 0, "{}: starts empty", be.name());
    assert_eq!(be.get(b"a").await.unwrap(), None);
    assert!(!be.contains(b"a").await.unwrap());
    be.put(b"a", b(b"1")).await.unwrap();
    be.put(b"b", b(b"2")).await.unwrap();
    assert_eq!(be.get(b"a").await.unwrap(), Some(b(b"1")));
    assert!(be.contains(b"a").await.unwrap());
    be.put(b"a", b(b"3")).await.unwrap();
    assert_eq!(be.get(b"a").await.unwrap(), Some(b(b"3")), "overwrite");
    assert_eq!(be.count().await.unwrap(), 2);
    assert!(be.delete(b"a").await.unwrap(), "present key");
    assert!(!be.delete(b"a").await.unwrap(), "absent key");
    assert_eq!(be.get(b"a").await.unwrap(), None);
    assert_eq!(be.count().await.unwrap(), 1);
    be.clear().await.unwrap();
    assert_eq!(be.count().await.unwrap(), 0);
    assert_eq!(be.get(b"b").await.unwrap(), None);
}

/// `put_many` (a later duplicate wins), `get_many` in input order with
/// duplicates and misses, `delete_many` counts, `apply_batch` in order.
pub(crate) async fn batches(be: &dyn StateBackend) {
    let entries: Vec<(Bytes, Bytes)> =
        (0u32..300).map(|i| (b(format!("k{i:04}").as_bytes()), b(&i.to_be_bytes()))).collect();
    let mut with_dup = entries.clone();
    with_dup.push((b(b"k0007"), b(b"last")));
    be.put_many(with_dup).await.unwrap();
    assert_eq!(be.count().await.unwrap(), 300);
    assert_eq!(be.get(b"k0007").await.unwrap(), Some(b(b"last")), "a later duplicate wins");
    be.put_many(Vec::new()).await.unwrap();

    let ask = vec![b(b"k0299"), b(b"missing"), b(b"k0000"), b(b"k0299"), b(b"k0007")];
    let got = be.get_many(&ask).await.unwrap();
    assert_eq!(
        got,
        vec![
            Some(b(&299u32.to_be_bytes())),
            None,
            Some(b(&0u32.to_be_bytes())),
            Some(b(&299u32.to_be_bytes())),
            Some(b(b"last"))
        ],
        "input order, duplicates and misses"
    );
    assert!(be.get_many(&[]).await.unwrap().is_empty());

    let gone = be.delete_many(&[b(b"k0001"), b(b"k0002"), b(b"nope"), b(b"k0002")]).await.unwrap();
    assert_eq!(gone, 2, "counts keys that were present, once each");
    assert_eq!(be.delete_many(&[]).await.unwrap(), 0);
    assert_eq!(be.count().await.unwrap(), 298);

    // apply_batch: in order, so put-then-delete deletes and delete-then-put puts.
    be.apply_batch(vec![
        (b(b"x"), Some(b(b"1"))),
        (b(b"x"), None),
        (b(b"y"), None),
        (b(b"y"), Some(b(b"2"))),
        (b(b"k0003"), None),
        (b(b"z"), Some(b(b"a"))),
        (b(b"z"), Some(b(b"b"))),
    ])
    .await
    .unwrap();
    assert_eq!(be.get(b"x").await.unwrap(), None);
    assert_eq!(be.get(b"y").await.unwrap(), Some(b(b"2")));
    assert_eq!(be.get(b"z").await.unwrap(), Some(b(b"b")));
    assert_eq!(be.get(b"k0003").await.unwrap(), None);
    assert_eq!(be.count().await.unwrap(), 299);
    be.apply_batch(Vec::new()).await.unwrap();

    // apply_batch_background: the same contract, large (past sled's inline
    // limit: its background writer) and small.
    let mut ops: Vec<crate::backend::BatchOp> =
        (0u32..100).map(|i| (b(format!("bg{i:03}").as_bytes()), Some(b(&i.to_be_bytes())))).collect();
    ops.push((b(b"bg005"), None));
    ops.push((b(b"x"), Some(b(b"bg"))));
    be.apply_batch_background(ops).await.unwrap();
    be.apply_batch_background(vec![(b(b"bg006"), None), (b(b"bg007"), Some(b(b"7")))]).await.unwrap();
    be.apply_batch_background(Vec::new()).await.unwrap();
    let got = be
        .get_many(&[b(b"bg000"), b(b"bg005"), b(b"bg006"), b(b"bg007"), b(b"bg099"), b(b"x")])
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            Some(b(&0u32.to_be_bytes())),
            None,
            None,
            Some(b(b"7")),
            Some(b(&99u32.to_be_bytes())),
            Some(b(b"bg"))
        ],
        "background batches apply in order"
    );
    assert_eq!(be.count().await.unwrap(), 299 + 98 + 1);
}

/// Empty key, empty value, non-UTF-8 keys, 0x00 and 0xFF bytes.
pub(crate) async fn binary_keys(be: &dyn StateBackend) {
    let keys: Vec<Bytes> = vec![
        b(b""),
        b(&[0x00]),
        b(&[0x00, 0x00]),
        b(&[0xFF]),
        b(&[0xFF, 0xFF, 0x00]),
        b(&[0xC3, 0x28]), // invalid UTF-8
        b(&[0x80, 0xFE, 0xFF]),
        b(b"a\0b"),
    ];
    for (i, k) in keys.iter().enumerate() {
        be.put(k, b(&[i as u8, 0x00, 0xFF])).await.unwrap();
    }
    be.put(b"empty-value", Bytes::new()).await.unwrap();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(be.get(k).await.unwrap(), Some(b(&[i as u8, 0x00, 0xFF])), "key {k:?}");
    }
    assert_eq!(
        be.get(b"empty-value").await.unwrap(),
        Some(Bytes::new()),
        "empty value is present, not absent"
    );
    assert!(be.contains(b"").await.unwrap(), "empty key");
    let mut all = keys.clone();
    all.push(b(b"empty-value"));
    all.sort();
    assert_eq!(be.list_keys(b"").await.unwrap(), all, "every key, in byte order");
    assert!(be.delete(b"").await.unwrap());
    assert_eq!(be.get(b"").await.unwrap(), None);
}

/// `list_keys(prefix)` against a naive filter, with prefixes containing and
/// ending in 0xFF and 0x00.
pub(crate) async fn list_keys_prefixes(be: &dyn StateBackend) {
    let keys: Vec<&[u8]> = vec![
        b"",
        b"a",
        b"ab",
        b"abc",
        b"ac",
        b"b",
        &[0x00],
        &[0x01],
        &[0xFE],
        &[0xFE, 0xFF],
        &[0xFF],
        &[0xFF, 0x00],
        &[0xFF, 0xFF],
        &[0xFF, 0xFF, 0xFF],
        &[0xFF, 0xFF, 0xFF, 0x01],
        b"a\xFF",
        b"a\xFF\xFF",
        b"b\x00",
    ];
    let entries: Vec<(Bytes, Bytes)> = keys.iter().map(|k| (b(k), b(b"v"))).collect();
    be.put_many(entries).await.unwrap();
    let model: BTreeMap<Bytes, ()> = keys.iter().map(|k| (b(k), ())).collect();
    let prefixes: Vec<&[u8]> = vec![
        b"",
        b"a",
        b"ab",
        b"abcd",
        b"a\xFF",
        b"b",
        b"c",
        &[0x00],
        &[0xFE],
        &[0xFF],
        &[0xFF, 0xFF],
        &[0xFF, 0xFF, 0xFF],
        &[0xFF, 0xFF, 0xFF, 0xFF],
    ];
    for p in prefixes {
        let want: Vec<Bytes> = model.keys().filter(|k| k.starts_with(p)).cloned().collect();
        assert_eq!(be.list_keys(p).await.unwrap(), want, "{}: prefix {p:?}", be.name());
    }
}

/// Values of 1 MiB + 1 and 8 MiB round-trip intact, alone and in a batch.
pub(crate) async fn large_values(be: &dyn StateBackend) {
    let one = patterned((1 << 20) + 1, 7);
    let eight = patterned(8 << 20, 3);
    be.put(b"one", one.clone()).await.unwrap();
    be.put_many(vec![(b(b"eight"), eight.clone()), (b(b"small"), b(b"s"))]).await.unwrap();
    assert_eq!(be.get(b"one").await.unwrap().as_deref(), Some(&one[..]));
    let got = be.get_many(&[b(b"eight"), b(b"one")]).await.unwrap();
    assert_eq!(got[0].as_deref().map(<[u8]>::len), Some(8 << 20));
    assert_eq!(got[0].as_deref(), Some(&eight[..]));
    assert_eq!(got[1].as_deref(), Some(&one[..]));
}

/// One step of the model test.
#[derive(Clone, Debug)]
pub(crate) enum ModelOp {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    PutMany(Vec<(Vec<u8>, Vec<u8>)>),
    DeleteMany(Vec<Vec<u8>>),
    Apply(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    List(Vec<u8>),
}

/// Short keys over 0x00, 0x01, `a`, 0xFE and 0xFF: collisions, shared
/// prefixes and 0xFF runs are common.
fn model_key() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    prop::collection::vec(prop_oneof![Just(0x00u8), Just(0x01), Just(b'a'), Just(0xFE), Just(0xFF)], 0..4)
}

/// A random [`ModelOp`].
pub(crate) fn model_op() -> impl proptest::strategy::Strategy<Value = ModelOp> {
    use proptest::prelude::*;
    let val = prop::collection::vec(any::<u8>(), 0..8);
    prop_oneof![
        (model_key(), val.clone()).prop_map(|(k, v)| ModelOp::Put(k, v)),
        model_key().prop_map(ModelOp::Delete),
        prop::collection::vec((model_key(), val.clone()), 0..6).prop_map(ModelOp::PutMany),
        prop::collection::vec(model_key(), 0..6).prop_map(ModelOp::DeleteMany),
        prop::collection::vec((model_key(), prop::option::of(val)), 0..6).prop_map(ModelOp::Apply),
        model_key().prop_map(ModelOp::List),
    ]
}

/// Applies `ops` to the (empty) backend and to a `BTreeMap`; every answer
/// and the final content must agree.
pub(crate) async fn matches_model(be: &dyn StateBackend, ops: Vec<ModelOp>) {
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for op in ops {
        match op {
            ModelOp::Put(k, v) => {
                be.put(&k, b(&v)).await.unwrap();
                model.insert(k, v);
            }
            ModelOp::Delete(k) => {
                assert_eq!(be.delete(&k).await.unwrap(), model.remove(&k).is_some());
            }
            ModelOp::PutMany(es) => {
                be.put_many(es.iter().map(|(k, v)| (b(k), b(v))).collect()).await.unwrap();
                model.extend(es);
            }
            ModelOp::DeleteMany(ks) => {
                let want = ks.iter().filter(|k| model.remove(*k).is_some()).count() as u64;
                let keys: Vec<Bytes> = ks.iter().map(|k| b(k)).collect();
                assert_eq!(be.delete_many(&keys).await.unwrap(), want);
            }
            ModelOp::Apply(ops) => {
                be.apply_batch(ops.iter().map(|(k, v)| (b(k), v.as_deref().map(b))).collect()).await.unwrap();
                for (k, v) in ops {
                    match v {
                        Some(v) => model.insert(k, v),
                        None => model.remove(&k),
                    };
                }
            }
            ModelOp::List(p) => {
                let want: Vec<Bytes> = model.keys().filter(|k| k.starts_with(&p)).map(|k| b(k)).collect();
                assert_eq!(be.list_keys(&p).await.unwrap(), want, "prefix {p:?}");
            }
        }
    }
    let all = be.list_keys(b"").await.unwrap();
    let got = be.get_many(&all).await.unwrap();
    let content: BTreeMap<Vec<u8>, Vec<u8>> =
        all.iter().zip(got).map(|(k, v)| (k.to_vec(), v.unwrap().to_vec())).collect();
    assert_eq!(content, model);
    assert_eq!(be.count().await.unwrap(), model.len() as u64);
}
