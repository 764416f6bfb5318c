//! Workload files: JSON lines with hex bytes, so a failure bundle replays the exact records.
//!
//! Line 1 is a header with the record count and digest; every later line is one record:
//!
//! ```text
//! {"format":"faultline-workload","version":1,"records":2,"digest":"9f2c..."}
//! {"seq":0,"key":"616363742d303030303031","value":"7b2274...","partition":null,"expect":{"outcome":"valid",...}}
//! {"seq":1,"key":null,"value":"7b7d","partition":2,"headers":[["trace","6162"]],"expect":{"outcome":"recorded","line":4}}
//! ```
//!
//! `headers` (name, hex value pairs in send order) is written only for records that have headers,
//! so bundles of generated workloads are unchanged and bundles written before it existed still read.
//!
//! Reading checks the header, every line's shape and `seq`, the count and finally the digest, and
//! names the file and line of the first problem.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::workload::{from_hex, to_hex, Expectation, Workload, WorkloadRecord};

/// The `format` value of the header line.
pub const FORMAT_NAME: &str = "faultline-workload";
/// The file format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Why a workload file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened, read or written.
    #[error("workload file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The workload spec does not fit the file's records.
    #[error("workload from {path}: {source}")]
    Spec {
        /// The file.
        path: PathBuf,
        /// The spec field that does not fit, and why.
        #[source]
        source: crate::spec::SpecError,
    },
    /// A line is not what the format expects.
    #[error("workload file {path} line {line}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and, where it helps, what was expected.
        message: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    records: u64,
    digest: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    seq: u64,
    key: Option<String>,
    value: String,
    partition: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    headers: Vec<(String, String)>,
    expect: Expectation,
}

impl Workload {
    /// Writes the workload to `path`, replacing any file there.
    pub fn write_to(&self, path: &Path) -> Result<(), FileError> {
        let io_err = |source| FileError::Io {
            path: path.to_owned(),
            source,
        };
        let mut out = BufWriter::new(File::create(path).map_err(io_err)?);
        self.write_lines(&mut out).map_err(io_err)?;
        out.flush().map_err(io_err)
    }

    /// Writes the file format to any writer.
    pub fn write_lines(&self, out: &mut impl Write) -> io::Result<()> {
        let header = Header {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            records: self.records.len() as u64,
            digest: self.digest(),
        };
        serde_json::to_writer(&mut *out, &header)?;
        out.write_all(b"\n")?;
        for r in &self.records {
            let line = Line {
                seq: r.seq,
                key: r.key.as_deref().map(to_hex),
                value: to_hex(&r.value),
                partition: r.partition,
                headers: r
                    .headers
                    .iter()
                    .map(|(name, value)| (name.clone(), to_hex(value)))
                    .collect(),
                expect: r.expect.clone(),
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Reads a workload written by [`Workload::write_to`].
    pub fn read_from(path: &Path) -> Result<Workload, FileError> {
        let file = File::open(path).map_err(|source| FileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Workload::read_lines(BufReader::new(file), path)
    }

    /// Reads the file format from any reader; `path` is only used in error messages.
    pub fn read_lines(mut input: impl BufRead, path: &Path) -> Result<Workload, FileError> {
        let corrupt = |line: usize, message: String| FileError::Corrupt {
            path: path.to_owned(),
            line,
            message,
        };
        let mut buf = Vec::new();
        let mut line_no = 0usize;
        let mut next_line = |buf: &mut Vec<u8>| -> Result<Option<usize>, FileError> {
            buf.clear();
            let n = input
                .read_until(b'\n', buf)
                .map_err(|source| FileError::Io {
                    path: path.to_owned(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            line_no += 1;
            Ok(Some(line_no))
        };

        let Some(line) = next_line(&mut buf)? else {
            return Err(corrupt(
                1,
                "empty file; expected a faultline-workload header line".into(),
            ));
        };
        let header: Header =
            serde_json::from_slice(&buf).map_err(|e| corrupt(line, format!("bad header: {e}")))?;
        if header.format != FORMAT_NAME || header.version != FORMAT_VERSION {
            return Err(corrupt(
                line,
                format!(
                    "format `{}` version {}; this reader understands `{FORMAT_NAME}` version {FORMAT_VERSION}",
                    header.format, header.version
                ),
            ));
        }

        let mut records = Vec::new();
        while let Some(line) = next_line(&mut buf)? {
            let parsed: Line = serde_json::from_slice(&buf)
                .map_err(|e| corrupt(line, format!("bad record: {e}")))?;
            let expected_seq = records.len() as u64;
            if parsed.seq != expected_seq {
                return Err(corrupt(
                    line,
                    format!("seq {} out of order; expected {expected_seq}", parsed.seq),
                ));
            }
            let key = match parsed.key {
                Some(hex) => Some(
                    from_hex(&hex).ok_or_else(|| corrupt(line, "key is not valid hex".into()))?,
                ),
                None => None,
            };
            let value = from_hex(&parsed.value)
                .ok_or_else(|| corrupt(line, "value is not valid hex".into()))?;
            let headers = parsed
                .headers
                .into_iter()
                .map(|(name, hex)| match from_hex(&hex) {
                    Some(value) => Ok((name, value)),
                    None => Err(corrupt(
                        line,
                        format!("header `{name}`: value is not valid hex"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            records.push(WorkloadRecord {
                seq: parsed.seq,
                key,
                value,
                partition: parsed.partition,
                headers,
                expect: parsed.expect,
            });
        }

        let after_last = records.len() + 2;
        if records.len() as u64 != header.records {
            return Err(corrupt(
                after_last,
                format!(
                    "file ends after {} records; the header promises {}",
                    records.len(),
                    header.records
                ),
            ));
        }
        let workload = Workload { records };
        let digest = workload.digest();
        if digest != header.digest {
            return Err(corrupt(
                1,
                format!(
                    "records hash to {digest}, not to the header's digest {}; the file was edited",
                    header.digest
                ),
            ));
        }
        Ok(workload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::generate;
    use crate::spec::WorkloadSpec;

    fn sample() -> Workload {
        let spec = WorkloadSpec {
            seed: 17,
            events: 60,
            duplicate_ratio: 0.2,
            cross_partition_duplicates: true,
            malformed_ratio: 0.3,
            poison_pills: 1,
            oversized: 1,
            schema_v2_ratio: 0.5,
            ..WorkloadSpec::default()
        };
        generate(&spec).unwrap()
    }

    fn written(w: &Workload) -> String {
        let mut out = Vec::new();
        w.write_lines(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn read_text(text: &str) -> Result<Workload, FileError> {
        Workload::read_lines(text.as_bytes(), Path::new("bundle/workload.jsonl"))
    }

    fn corrupt_line(err: FileError) -> (String, usize) {
        match err {
            FileError::Corrupt { path, line, .. } => (path.display().to_string(), line),
            other => panic!("expected a corrupt-file error, got {other}"),
        }
    }

    #[test]
    fn round_trip_through_a_real_file_keeps_every_byte() {
        let w = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("workload.jsonl");
        w.write_to(&path).unwrap();
        let back = Workload::read_from(&path).unwrap();
        assert_eq!(back, w);
        assert_eq!(back.digest(), w.digest());
    }

    #[test]
    fn bad_json_line_is_reported_with_file_and_line() {
        let text = written(&sample());
        let mut lines: Vec<&str> = text.lines().collect();
        lines[5] = "{\"seq\":4,";
        let err = read_text(&lines.join("\n")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("workload file bundle/workload.jsonl line 6: bad record"),
            "{err}"
        );
        assert_eq!(corrupt_line(err), ("bundle/workload.jsonl".into(), 6));
    }

    #[test]
    fn bad_hex_and_seq_gaps_are_reported() {
        let text = written(&sample());
        let lines: Vec<&str> = text.lines().collect();
        let bad_hex = text.replacen(
            lines[3],
            &lines[3].replacen("\"value\":\"7b", "\"value\":\"zz", 1),
            1,
        );
        assert_eq!(corrupt_line(read_text(&bad_hex).unwrap_err()).1, 4);
        let mut skipped = lines.clone();
        skipped.remove(2);
        assert_eq!(
            corrupt_line(read_text(&skipped.join("\n")).unwrap_err()).1,
            3
        );
    }

    #[test]
    fn truncated_file_is_reported_after_the_last_line() {
        let text = written(&sample());
        let lines: Vec<&str> = text.lines().collect();
        let cut = lines[..10].join("\n");
        let err = read_text(&cut).unwrap_err();
        assert!(err.to_string().contains("header promises"), "{err}");
        assert_eq!(corrupt_line(err).1, 11);
    }

    #[test]
    fn edited_bytes_fail_the_digest() {
        let w = sample();
        let mut edited = w.clone();
        edited.records[0].value.push(b' ');
        let mut text = written(&edited);
        let header_end = text.find('\n').unwrap();
        let original_header = written(&w)[..header_end].to_owned();
        text.replace_range(..header_end, &original_header);
        let err = read_text(&text).unwrap_err();
        assert!(err.to_string().contains("digest"), "{err}");
    }

    #[test]
    fn wrong_header_and_empty_file() {
        assert_eq!(corrupt_line(read_text("").unwrap_err()).1, 1);
        let other = r#"{"format":"something-else","version":1,"records":0,"digest":""}"#;
        assert!(read_text(other)
            .unwrap_err()
            .to_string()
            .contains("something-else"));
    }

    #[test]
    fn headers_round_trip_and_headerless_lines_do_not_mention_them() {
        let mut w = sample();
        assert!(!written(&w).contains("headers"));
        w.records[3].headers = vec![
            ("trace".into(), b"abc".to_vec()),
            ("bin".into(), vec![0, 0xff]),
            ("trace".into(), Vec::new()),
        ];
        let text = written(&w);
        assert_eq!(text.matches("\"headers\"").count(), 1);
        let back = read_text(&text).unwrap();
        assert_eq!(back, w);
        assert_eq!(back.digest(), w.digest());
    }

    #[test]
    fn bad_header_hex_names_the_line_and_header() {
        let mut w = sample();
        w.records[2].headers = vec![("trace".into(), b"abc".to_vec())];
        let text = written(&w).replace("\"616263\"", "\"6z\"");
        let err = read_text(&text).unwrap_err();
        assert!(err.to_string().contains("header `trace`"), "{err}");
        assert_eq!(corrupt_line(err).1, 4);
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = Workload::read_from(Path::new("/nonexistent/w.jsonl")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/w.jsonl"), "{err}");
    }
}
