//! Targets → the files of a run: local paths go through [`discover`] together (one
//! package); every other target is its own package, planned by [`remote`].

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::discover;
use crate::env::HfEnv;
use crate::filters::Filters;
use crate::remote::{self, http::Client};
use crate::target::{Package, PackageKind, Plan, Target};

/// Expands `targets` into inputs and packages.
pub fn plan(
    targets: &[Target],
    filters: &Filters,
    opts: &remote::Options,
    hf: &HfEnv,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut locals: Vec<PathBuf> = Vec::new();
    let shared: OnceCell<Arc<Client>> = OnceCell::new();
    let get_client = || shared.get_or_init(|| remote::client(hf)).clone();
    for t in targets {
        match t {
            Target::Local(p) => locals.push(p.clone()),
            Target::Url(url) => remote::plan_url(&mut plan, get_client(), url, filters),
            Target::HubRepo(repo) => {
                remote::plan_hub_target(&mut plan, get_client, repo, filters, opts, hf)?
            }
            Target::HubCache(c) => remote::plan_cache_target(&mut plan, c, filters, hf)?,
        }
    }
    if !locals.is_empty() {
        let inputs = discover::discover(&locals, filters)?;
        let root = locals
            .first()
            .map(|p| discover::display_of(p))
            .unwrap_or_default();
        let name = locals
            .iter()
            .map(|p| discover::display_of(p))
            .collect::<Vec<_>>()
            .join(" ");
        let files: BTreeSet<String> = inputs.iter().map(|i| i.display.clone()).collect();
        plan.packages.push(Package {
            kind: PackageKind::Local,
            name,
            version: String::new(),
            root,
            files,
            hub: None,
        });
        plan.inputs.extend(inputs);
    }
    plan.client = shared.into_inner();
    Ok(plan)
}
