//! Machine output: `-o json` and `-o yaml` of any serializable value.

use std::io::Write;

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::error::{Error, ErrorKind, Result};

/// Writes `value` as JSON (pretty, trailing newline) or YAML.
pub fn write(out: &mut impl Write, format: OutputFormat, value: &impl Serialize) -> Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
                Some(kind) => Error::from(std::io::Error::from(kind)),
                None => Error::new(ErrorKind::Io, format!("writing JSON: {e}")),
            })?;
            out.write_all(b"\n")?;
        }
        OutputFormat::Yaml => {
            let text = serde_saphyr::to_string(value)
                .map_err(|e| Error::new(ErrorKind::Io, format!("writing YAML: {e}")))?;
            out.write_all(text.as_bytes())?;
        }
        other => {
            return Err(Error::usage(format!(
                "-o {} is not a machine format",
                crate::options::output_name(other)
            )));
        }
    }
    Ok(())
}
