use super::*;

#[test]
fn defaults_round_trip_through_toml() {
    let mut cfg = CacheConfig::default();
    cfg.l1.ttl = Some(Duration::from_secs(30));
    cfg.l2 = Some(L2Config::default());
    cfg.write.strategy = WriteStrategy::WriteBehind;
    let text = cfg.to_toml_string().expect("serialises");
    let back = CacheConfig::from_toml_str(&text, "mem").expect("parses");
    assert_eq!(back, cfg);
}

#[test]
fn write_strategy_names_round_trip() {
    for w in WriteStrategy::ALL {
        assert_eq!(w.name().parse::<WriteStrategy>().expect("parses"), w);
        let toml = toml::to_string(&WriteConfig { strategy: w, ..WriteConfig::default() }).expect("ser");
        assert!(toml.contains(&format!("strategy = \"{}\"", w.name())), "{toml}");
    }
    assert!("bogus".parse::<WriteStrategy>().is_err());
}

#[test]
fn l2_without_ttl_round_trips() {
    let mut cfg =
        CacheConfig { l2: Some(L2Config { ttl: None, ..L2Config::default() }), ..CacheConfig::default() };
    let text = cfg.to_toml_string().expect("serialises");
    assert!(text.contains("ttl_ms = 0"), "{text}");
    assert_eq!(CacheConfig::from_toml_str(&text, "mem").expect("parses"), cfg);
    cfg.l2 = Some(L2Config::default());
    let text = cfg.to_toml_string().expect("serialises");
    assert_eq!(CacheConfig::from_toml_str(&text, "mem").expect("parses"), cfg);
    let absent = CacheConfig::from_toml_str("[l2]\nurl = \"redis://x\"\n", "mem").expect("parses");
    assert_eq!(absent.l2.and_then(|l| l.ttl), Some(Duration::from_secs(300)));
}

#[test]
fn partial_toml_gets_defaults() {
    let cfg = CacheConfig::from_toml_str(
        "[l1]\ncapacity = { bytes = 1048576 }\nttl_ms = 500\neviction = { policy = \"lru\" }\n",
        "t.toml",
    )
    .expect("parses");
    assert_eq!(cfg.l1.capacity, Capacity::Bytes(1 << 20));
    assert_eq!(cfg.l1.ttl, Some(Duration::from_millis(500)));
    assert_eq!(cfg.write, WriteConfig::default());
    assert!(cfg.write.allocate, "write-allocate by default");
    let cfg = CacheConfig::from_toml_str("[write]\nallocate = false\n", "t.toml").expect("parses");
    assert!(!cfg.write.allocate);
    let cfg =
        CacheConfig::from_toml_str("[l3]\nbackend = \"sled\"\npath = \"d\"\n", "t.toml").expect("parses");
    assert_eq!(cfg.l3, L3Config::Sled { path: "d".into(), background_nice: 10 });
    let cfg =
        CacheConfig::from_toml_str("[l3]\nbackend = \"sled\"\npath = \"d\"\nbackground_nice = 0\n", "t.toml")
            .expect("parses");
    assert_eq!(cfg.l3, L3Config::Sled { path: "d".into(), background_nice: 0 });
    for bad in [20, -21] {
        let text = format!("[l3]\nbackend = \"sled\"\npath = \"d\"\nbackground_nice = {bad}\n");
        let e = CacheConfig::from_toml_str(&text, "t.toml").unwrap_err().to_string();
        assert!(e.contains("l3.background_nice") && e.contains(&bad.to_string()), "{e}");
    }
    let e = CacheConfig::from_toml_str("[write]\nallocate = \"no\"\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("allocate") && e.to_string().contains("line 2"), "{e}");
}

#[test]
fn table_names_are_sql_identifiers() {
    for ok in ["t", "_", "cache_1", "Strata", "public.cache", "s_1.T_2", &"a".repeat(63)] {
        validate_table_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let long = "a".repeat(64);
    for bad in
        ["", "1t", "x; drop table y", "a.b.c", ".t", "t.", "t-1", "\"t\"", "t t", "é", "t\0", &long, "a--b"]
    {
        let e = validate_table_name(bad).expect_err(bad);
        assert!(matches!(&e, StateError::Config { field, .. } if field == "l3.table"), "{bad}: {e}");
    }
    let cfg = "[l3]\nbackend = \"postgres\"\nurl = \"postgres://h/db\"\ntable = \"x; drop table y\"\n";
    let e = CacheConfig::from_toml_str(cfg, "t.toml").unwrap_err();
    assert!(e.to_string().contains("l3.table"), "{e}");
}

#[test]
fn errors_name_the_field_and_line() {
    let e = CacheConfig::from_toml_str("[l1]\ncapacity = { entries = 0 }\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("l1.capacity"), "{e}");
    let e = CacheConfig::from_toml_str("[write]\n\nbatchsize = 3\n", "t.toml").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("t.toml line 3") && msg.contains("batchsize"), "{msg}");
    let e = CacheConfig::from_toml_str("[l2]\nnamespace = \"app:cache\"\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("l2.namespace"), "{e}");
    let e = CacheConfig::from_toml_str("[l2]\nurl = \"http://x\"\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("l2.url"), "{e}");
    let e = CacheConfig::from_toml_str("[refresh]\nthreshold = 1.5\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("refresh.threshold"), "{e}");
}

#[test]
fn shard_counts_are_bounded_by_the_limit_and_the_capacity() {
    // 2^62 + 1 shards would round up to 2^63 and exhaust memory.
    let e = CacheConfig::from_toml_str("[l1]\nshards = 4611686018427387905\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("l1.shards") && e.to_string().contains("at most 65536"), "{e}");
    let e = CacheConfig::from_toml_str("[l1]\nshards = 65537\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("l1.shards"), "{e}");
    // 4096 shards over 1,000 entries would leave 3,096 shards empty.
    let toml = "[l1]\ncapacity = { entries = 1000 }\nshards = 4096\n";
    let e = CacheConfig::from_toml_str(toml, "t.toml").unwrap_err();
    assert!(e.to_string().contains("l1.shards") && e.to_string().contains("1000 units"), "{e}");
    // 1,000 rounds up to 1,024: more than 1,000 entries.
    let toml = "[l1]\ncapacity = { entries = 1000 }\nshards = 1000\n";
    assert!(CacheConfig::from_toml_str(toml, "t.toml").is_err());
    let toml = "[l1]\ncapacity = { entries = 1024 }\nshards = 1000\n";
    assert!(CacheConfig::from_toml_str(toml, "t.toml").is_ok());
    let toml = "[l1]\ncapacity = { bytes = 1073741824 }\nshards = 65536\n";
    assert!(CacheConfig::from_toml_str(toml, "t.toml").is_ok());
}

#[test]
fn l2_ttls_beyond_100_years_are_refused() {
    let longest = super::MAX_L2_TTL.as_millis();
    let ok = format!("[l2]\nttl_ms = {longest}\n");
    assert!(CacheConfig::from_toml_str(&ok, "t.toml").is_ok());
    let e = CacheConfig::from_toml_str("[l2]\nttl_ms = 9223372036854775807\n", "t.toml").unwrap_err();
    assert!(e.to_string().contains("l2.ttl_ms") && e.to_string().contains("at most"), "{e}");
}

#[test]
fn hash_seed_is_optional_and_the_documented_default_seed_parses() {
    assert_eq!(CacheConfig::default().l1.hash_seed, None);
    assert!(!CacheConfig::default().to_toml_string().unwrap().contains("hash_seed"));
    // The number the book gives for `DEFAULT_HASH_SEED`.
    let c = CacheConfig::from_toml_str("[l1]\nhash_seed = 6293683334620826366\n", "t.toml").unwrap();
    assert_eq!(c.l1.hash_seed, Some(crate::l1::DEFAULT_HASH_SEED));
    let back = CacheConfig::from_toml_str(&c.to_toml_string().unwrap(), "t.toml").unwrap();
    assert_eq!(back, c);
}

#[test]
fn invalid_values_name_the_file_and_line() {
    let text = "[l1]\nshards = 4\n\n[write]\nstrategy = \"write-behind\"\nbatch_size = 0\n";
    let e = CacheConfig::from_toml_str(text, "c.toml").unwrap_err().to_string();
    assert_eq!(e, "invalid configuration: `c.toml line 6: write.batch_size`: must be at least 1");
    let e = CacheConfig::from_toml_str("[l1]\ncapacity = { entries = 2 }\nshards = 4\n", "c.toml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("invalid configuration: `c.toml line 3: l1.shards`"), "{e}");
    // A value the file does not set (the default queue_capacity, too small
    // for this batch) names the file alone.
    let e = CacheConfig::from_toml_str("[write]\nbatch_size = 200000\n", "c.toml").unwrap_err().to_string();
    assert!(e.starts_with("invalid configuration: `c.toml: write.queue_capacity`"), "{e}");
    let e = CacheConfig::from_toml_str("[l1.eviction]\npolicy = \"s3fifo\"\nsmall_ratio = 2.0\n", "c.toml")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid configuration: `c.toml line 3: l1.eviction.small_ratio`: must be in [0, 1], got 2"
    );
}
