//! A progress line on stderr for long scans on a terminal; silent in CI and pipes.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    /// Bytes fetched over HTTP so far (remote targets), shown next to the file count.
    fetched: Option<std::sync::Arc<crate::remote::http::Client>>,
    total: usize,
    done: AtomicUsize,
    enabled: bool,
    last: Mutex<Instant>,
}

impl Progress {
    /// A progress line for `total` files, drawn only when `wanted`, outside CI (`ci`), on a
    /// terminal, and for more than one file.
    pub fn new(total: usize, wanted: bool, ci: bool) -> Progress {
        Progress {
            fetched: None,
            total,
            done: AtomicUsize::new(0),
            enabled: wanted && !ci && std::io::stderr().is_terminal() && total > 1,
            last: Mutex::new(Instant::now()),
        }
    }

    /// Also show the bytes `client` has fetched (remote targets).
    pub fn with_fetched(
        mut self,
        client: Option<std::sync::Arc<crate::remote::http::Client>>,
    ) -> Progress {
        self.fetched = client;
        self
    }

    pub fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.enabled {
            return;
        }
        if let Ok(mut last) = self.last.try_lock() {
            if last.elapsed() > Duration::from_millis(100) || done == self.total {
                *last = Instant::now();
                let width = 30;
                let filled = done * width / self.total.max(1);
                let fetched = self
                    .fetched
                    .as_ref()
                    .map(|c| {
                        let n = c.received.load(Ordering::Relaxed);
                        format!(", {:.1} MiB fetched", n as f64 / (1024.0 * 1024.0))
                    })
                    .unwrap_or_default();
                eprint!(
                    "\r[{}{}] {done}/{} files{fetched}",
                    "#".repeat(filled),
                    " ".repeat(width - filled),
                    self.total
                );
                let _ = std::io::stderr().flush();
            }
        }
    }

    pub fn finish(&self) {
        if self.enabled {
            eprint!("\r{}\r", " ".repeat(80));
            let _ = std::io::stderr().flush();
        }
    }
}
