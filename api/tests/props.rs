//! Property tests of bad request bodies: whatever JSON (or non-JSON) arrives at a write
//! endpoint, the service answers a 4xx problem — never a 5xx, never a panic (a panic would
//! drop the connection, which fails the request).

mod common;

use common::{small_json, Fixture};
use proptest::prelude::*;
use std::sync::OnceLock;

struct Shared {
    rt: tokio::runtime::Runtime,
    f: Fixture,
    pid: String,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (f, pid) = rt.block_on(async {
            let f = Fixture::start_with(|c| {
                c.rate_limit_burst = 1_000_000;
                c.rate_limit_per_minute = 1_000_000;
                c.max_paths_per_job = 1000;
                c.max_jobs_per_key = 1_000_000;
                c.threads = Some(1);
            })
            .await;
            let pid = f.post_small().await;
            (f, pid)
        });
        Shared { rt, f, pid }
    })
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(serde_json::Value::from),
        "[a-zA-Z0-9_\\-./ ]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The small portfolio with one field (chosen by `path`) replaced by `v`.
fn mutate(mut doc: serde_json::Value, path: &[usize], v: serde_json::Value) -> serde_json::Value {
    fn at(x: &mut serde_json::Value, path: &[usize], v: serde_json::Value) {
        let Some((&i, rest)) = path.split_first() else {
            *x = v;
            return;
        };
        match x {
            serde_json::Value::Object(m) if !m.is_empty() => {
                let k = m.keys().nth(i % m.len()).unwrap().clone();
                at(m.get_mut(&k).unwrap(), rest, v);
            }
            serde_json::Value::Array(a) if !a.is_empty() => {
                let n = a.len();
                at(&mut a[i % n], rest, v);
            }
            _ => *x = v,
        }
    }
    at(&mut doc, path, v);
    doc
}

fn post(path: &str, body: Vec<u8>) -> (u16, String) {
    let s = shared();
    s.rt.block_on(async {
        let r = s.f.post(path, body).await;
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct)
    })
}

fn check(path: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let (status, ct) = post(path, body);
    prop_assert!(status < 500, "{path}: {status}");
    if status >= 400 {
        prop_assert_eq!(ct, "application/problem+json");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_portfolios_are_never_a_server_error(v in json_value()) {
        check("/v1/portfolios", serde_json::to_vec(&v).unwrap())?;
    }

    #[test]
    fn mutated_portfolios_are_never_a_server_error(
        path in prop::collection::vec(0usize..16, 1..5),
        v in json_value(),
    ) {
        let doc = mutate(small_json(), &path, v);
        check("/v1/portfolios", serde_json::to_vec(&doc).unwrap())?;
    }

    #[test]
    fn arbitrary_bytes_are_never_a_server_error(b in prop::collection::vec(any::<u8>(), 0..256)) {
        check("/v1/portfolios", b.clone())?;
        check("/v1/simulations", b)?;
    }

    #[test]
    fn arbitrary_simulation_requests_are_never_a_server_error(
        v in json_value(),
        paths in prop_oneof![Just(serde_json::json!(0)), (0u64..2000).prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from)],
        seed in any::<u64>(),
        start in prop_oneof![Just(0u64), Just(u32::MAX as u64), any::<u64>()],
        field in 0usize..4,
    ) {
        let s = shared();
        let mut req = serde_json::json!({"portfolio_id": s.pid, "paths": paths, "seed": seed, "path_start": start});
        let k = ["portfolio_id", "backend", "scenarios", "sensitivities"][field];
        req[k] = v;
        check("/v1/simulations", serde_json::to_vec(&req).unwrap())?;
    }
}
