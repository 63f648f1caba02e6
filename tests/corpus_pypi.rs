//! Model and data files exactly as PyPI packages ship them in their wheels
//! (tests/corpus/pypi, extracted by scripts/corpus/pypi_models.py) pass the default
//! thresholds: nothing at medium or above. Every medium here is a false alarm on a file a
//! user of that package loads.
//!
//! The ones that are still false alarms today are listed in `KNOWN_FALSE_ALARMS`; the test
//! checks that they are the only offenders, so fixing one makes it fail until the entry
//! is removed.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// (path under tests/corpus/pypi, rule id) of every medium-or-above finding today.
const KNOWN_FALSE_ALARMS: &[(&str, &str)] = &[
    // gensim SaveLoad pickles: gensim's own model classes, numpy's RandomState
    // reconstructor, `builtins.hash` and tf-idf weighting functions stored as attributes.
    (
        "gensim-4.4.0/gensim/test/test_data/ft_kv_3.6.0.model.gz",
        "pickle-unknown-global",
    ),
    (
        "gensim-4.4.0/gensim/test/test_data/lda_3_0_1_model",
        "pickle-unknown-global",
    ),
    (
        "gensim-4.4.0/gensim/test/test_data/phraser-no-scoring.pkl",
        "pickle-unknown-global",
    ),
    (
        "gensim-4.4.0/gensim/test/test_data/tfidf_model.tst.bz2",
        "pickle-unknown-global",
    ),
    (
        "gensim-4.4.0/gensim/test/test_data/word2vec_pre_kv_py3",
        "pickle-unknown-global",
    ),
    // sklearn_crfsuite.CRF pickles (its FileResource writes the model to a temp file on
    // load; pycrfsuite's LabelScore is a namedtuple).
    (
        "khmer-nltk-1.6/khmernltk/pos_tag/sklearn_crf_pos_alt_0.9846.sav",
        "pickle-unknown-global",
    ),
    ("pyvi-0.1.1/pyvi/models/pyvi3.pkl", "pickle-unknown-global"),
    // pandas < 0.20 module path of BlockManager in a Python 2.7 MultiIndex pickle.
    (
        "pandas-1.5.3/pandas/tests/io/data/pickle/test_mi_py27.pkl",
        "pickle-unknown-global",
    ),
    // statsmodels 0.9 SARIMAXResults pickle.
    (
        "statsmodels-0.14.5/statsmodels/tsa/statespace/tests/results/sm-0.9-sarimax.pkl",
        "pickle-unknown-global",
    ),
    // np.savez of recarrays: numpy.core.records.recarray / record in object members.
    (
        "statsmodels-0.14.5/statsmodels/tsa/vector_ar/tests/results/vars_results.npz",
        "pickle-unknown-global",
    ),
];

#[test]
fn pypi_shipped_files_stay_below_medium() {
    let dir = root().join("tests/corpus/pypi");
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let packages: BTreeSet<&str> = manifest
        .iter()
        .map(|e| e["package"].as_str().unwrap())
        .collect();
    assert!(
        packages.len() >= 25,
        "corpus unexpectedly small: {} packages",
        packages.len()
    );

    let (code, report) = scan_json(&["tests/corpus/pypi"]);
    let mut offenders = BTreeSet::new();
    let mut detail = Vec::new();
    for e in &manifest {
        let rel = e["path"].as_str().unwrap();
        let path = format!("tests/corpus/{rel}");
        let bytes = std::fs::read(root().join(&path)).unwrap();
        assert_eq!(
            format!("{:x}", Sha256::digest(&bytes)),
            e["sha256"].as_str().unwrap(),
            "{path} is not the shipped file: rerun scripts/corpus/pypi_models.py"
        );
        let f = file(&report, &path);
        assert_eq!(f["status"], "scanned", "{path}: {f:#}");
        let short = rel.strip_prefix("pypi/").unwrap();
        for x in f["findings"].as_array().unwrap() {
            let sev = x["severity"].as_str().unwrap();
            if x.get("suppressed").is_none() && rank(sev) >= rank("medium") {
                let rule = x["rule"].as_str().unwrap();
                if offenders.insert((short.to_string(), rule.to_string()))
                    && !KNOWN_FALSE_ALARMS.contains(&(short, rule))
                {
                    detail.push(format!(
                        "{path} ({} {}): {sev} {rule}: {:#}",
                        e["package"], e["version"], f["findings"]
                    ));
                }
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_FALSE_ALARMS
        .iter()
        .map(|(p, r)| (p.to_string(), r.to_string()))
        .collect();
    let fixed: Vec<_> = known.difference(&offenders).collect();
    assert!(
        detail.is_empty(),
        "{} new file(s)/rule(s) at medium or above:\n{}",
        detail.len(),
        detail.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "no longer false alarms, remove them from KNOWN_FALSE_ALARMS: {fixed:?}"
    );
    assert_eq!(
        code,
        if known.is_empty() { 0 } else { 1 },
        "exit code under the default thresholds"
    );
}
