//! Progress of long commands (seeding, importing) on the operator's terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::Progress;

/// A progress bar on a terminal; plain progress lines (at most one every 2 s) otherwise.
pub struct TerminalProgress {
    bar: Option<ProgressBar>,
    plain: Mutex<PlainProgress>,
}

struct PlainProgress {
    stage: String,
    total: u64,
    done: u64,
    last_line: Instant,
}

impl TerminalProgress {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        TerminalProgress {
            bar,
            plain: Mutex::new(PlainProgress {
                stage: String::new(),
                total: 0,
                done: 0,
                last_line: Instant::now(),
            }),
        }
    }
}

impl Progress for TerminalProgress {
    fn start(&self, stage: &str, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(stage.to_owned());
            bar.set_length(total);
            bar.set_position(0);
            return;
        }
        let mut plain = self.plain.lock().unwrap_or_else(|e| e.into_inner());
        *plain = PlainProgress {
            stage: stage.to_owned(),
            total,
            done: 0,
            last_line: Instant::now(),
        };
        eprintln!("{stage}: 0/{total}");
    }

    fn advance(&self, units: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(units);
            return;
        }
        let mut plain = self.plain.lock().unwrap_or_else(|e| e.into_inner());
        plain.done += units;
        if plain.last_line.elapsed() >= Duration::from_secs(2) || plain.done == plain.total {
            plain.last_line = Instant::now();
            eprintln!("{}: {}/{}", plain.stage, plain.done, plain.total);
        }
    }

    fn finish(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.finish_with_message(message.to_owned()),
            None => eprintln!("{message}"),
        }
    }
}
