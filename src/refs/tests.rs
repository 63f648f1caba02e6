use super::*;

fn rules(src: &str) -> Vec<(String, u32, u32)> {
    scan_file_text(src, "train.py", &[])
        .iter()
        .map(|f| {
            (
                f.rule.to_string(),
                f.location.line.unwrap_or(0),
                f.location.column.unwrap_or(0),
            )
        })
        .collect()
}

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn unpinned_from_pretrained_is_reported_at_the_call() {
    let src = "from transformers import AutoModel as AM\n\nm = AM.from_pretrained(\"acme/totally-harmless\")\n";
    assert_eq!(rules(src), [("model-ref-unpinned".to_string(), 3, 5)]);
}

#[test]
fn a_pinned_reference_is_quiet_and_a_branch_is_not() {
    let src = format!(
        "import transformers\nt = transformers.pipeline(\"text-generation\", model=\"acme/big-model\", revision=\"{SHA}\")\nu = transformers.AutoTokenizer.from_pretrained(\"acme/x\", revision=\"main\")\n"
    );
    assert_eq!(rules(&src), [("model-ref-unpinned".to_string(), 3, 5)]);
}

#[test]
fn constants_are_folded_and_variables_are_dynamic() {
    let src = format!("from huggingface_hub import hf_hub_download\nREPO = \"acme/data\"\nREV = \"{SHA}\"\nhf_hub_download(REPO, \"model.bin\", revision=REV)\nhf_hub_download(repo_id=name, filename=\"x\")\n");
    assert_eq!(rules(&src), [("model-ref-dynamic".to_string(), 5, 1)]);
}

#[test]
fn remote_code_lookalikes_and_unsafe_loads() {
    let src = "from transformers import AutoModelForCausalLM\nimport torch, numpy as np\nm = AutoModelForCausalLM.from_pretrained(\"0penai/gpt\", revision=\"0123456789abcdef0123456789abcdef01234567\", trust_remote_code=True)\nsd = torch.load(\"x.pt\", weights_only=False)\na = np.load(\"a.npy\", allow_pickle=True)\nok = torch.load(\"x.pt\")\nh = torch.hub.load(\"pytorch/vision\", \"resnet18\")\n";
    let got: Vec<String> = rules(src)
        .into_iter()
        .map(|r| format!("{}@{}", r.0, r.1))
        .collect();
    assert_eq!(
        got,
        [
            "model-ref-lookalike-publisher@3",
            "model-ref-remote-code@3",
            "model-ref-unsafe-load@4",
            "model-ref-unsafe-load@5",
            "model-ref-unpinned@7",
            "model-ref-remote-code@7",
        ]
    );
}

#[test]
fn local_paths_strings_in_comments_and_other_libraries_are_not_references() {
    let src = "# AutoModel.from_pretrained(\"acme/x\")\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(\"./checkpoints/run1\")\ns = \"AutoModel.from_pretrained('acme/y')\"\nclass X:\n    def from_pretrained(self, p): ...\nX().from_pretrained(\"acme/z\")\n";
    assert_eq!(rules(src), []);
}

#[test]
fn notebook_cells_are_located_in_the_ipynb_file() {
    let nb = r#"{
 "cells": [
  {"cell_type": "markdown", "source": ["pipeline(model=\"acme/doc\")"]},
  {
   "cell_type": "code",
   "source": [
    "from transformers import pipeline\n",
    "p = pipeline(\"text-generation\", model=\"acme/big-model\")\n"
   ]
  }
 ],
 "nbformat": 4
}"#;
    let f = scan_file_text(nb, "demo.ipynb", &[]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule.to_string(), "model-ref-unpinned");
    assert_eq!(f[0].location.line, Some(8));
}

#[test]
fn owners_outside_the_trusted_orgs_are_reported_when_the_list_is_set() {
    let src = "from transformers import AutoModel\nAutoModel.from_pretrained(\"acme/x\", revision=\"0123456789abcdef0123456789abcdef01234567\")\nAutoModel.from_pretrained(\"Google/y\", revision=\"0123456789abcdef0123456789abcdef01234567\")\n";
    let trusted = vec!["google".to_string()];
    let got: Vec<(String, u32)> = scan_file_text(src, "t.py", &trusted)
        .iter()
        .map(|f| (f.rule.to_string(), f.location.line.unwrap_or(0)))
        .collect();
    assert_eq!(got, [("model-ref-untrusted-publisher".to_string(), 2)]);
    assert!(scan_file_text(src, "t.py", &[]).is_empty());
}
