//! TODO
use super::{RenderOptions, Report};
use std::io::{self, Write};

pub fn render(_report: &Report, _opts: &RenderOptions, _out: &mut dyn Write) -> io::Result<()> {
    Ok(())
}
