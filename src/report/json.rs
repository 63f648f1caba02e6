//! The JSON report: the [`Report`] value itself, pretty-printed. Its fields are documented
//! in `docs/json-schema.md`; a breaking change bumps [`super::JSON_VERSION`].

use std::io::{self, Write};

use super::{RenderOptions, Report};

pub fn render(report: &Report, _opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::{render_to_string, sample_report};
    use serde_json::{json, Value};

    fn rendered() -> Value {
        let out = render_to_string(render, &sample_report(), &RenderOptions::default());
        assert!(out.ends_with("}\n"));
        serde_json::from_str(&out).expect("valid JSON")
    }

    #[test]
    fn top_level_fields_in_documented_order() {
        let out = render_to_string(render, &sample_report(), &RenderOptions::default());
        let keys: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("  \"")?.split('"').next())
            .collect();
        assert_eq!(
            keys,
            [
                "version",
                "tool",
                "files",
                "summary",
                "thresholds",
                "reached",
                "verdict"
            ]
        );
        let v = rendered();
        assert_eq!(v["version"], 1);
        assert_eq!(v["tool"]["name"], "modelgate");
        assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["verdict"], "fail");
        assert_eq!(v["reached"], json!(["critical", "medium"]));
        assert_eq!(
            v["thresholds"],
            json!({"critical": 1, "high": 1, "medium": 1, "low": null, "info": null})
        );
        assert_eq!(
            v["summary"],
            json!({
                "files_scanned": 2, "files_skipped": 2, "files_errored": 1, "lfs_pointers": 0,
                "critical": 1, "high": 0, "medium": 1, "low": 1, "info": 1, "suppressed": 1
            })
        );
    }

    #[test]
    fn files_and_findings_in_stable_order() {
        let v = rendered();
        let paths: Vec<&str> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "README.md",
                "data/labels.json",
                "models/evil model.pkl",
                "models/model.pt",
                "models/unreadable.bin"
            ]
        );
        let torch = &v["files"][3];
        assert_eq!(torch["status"], "scanned");
        assert_eq!(torch["format"], "pytorch-zip");
        assert_eq!(torch["size"], 4096);
        let rules: Vec<&str> = torch["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(
            rules,
            ["pickle-format", "zip-crc-mismatch", "pickle-unknown-global"]
        );
        assert_eq!(
            torch["findings"][2],
            json!({
                "rule": "pickle-unknown-global",
                "severity": "medium",
                "location": {"path": "models/model.pt", "member": "archive/data.pkl", "offset": 57},
                "message": "Imports a global outside the allowlist",
                "evidence": "mypkg.layers.Custom",
                "suppressed": {"reason": "our own layer, reviewed"}
            })
        );
        // Absent optional fields are omitted, not null.
        let broken = &v["files"][4];
        assert_eq!(
            broken,
            &json!({"path": "models/unreadable.bin", "status": "error",
                    "reason": "permission denied", "size": 0, "findings": []})
        );
        // Evidence round-trips byte for byte, control characters included.
        assert_eq!(
            v["files"][2]["findings"][0]["evidence"],
            "posix.system(\"echo 100% pwned: a,b\nsecond line\r\")"
        );
    }
}
