//! Just enough of the PostgreSQL wire protocol (server to client) to find where the server
//! acknowledges a `COMMIT`, for the `commit_in_doubt` toxic.
//!
//! Every server message is a type byte, a big-endian `u32` length that counts itself, then the
//! body; a `CommandComplete` (`C`) body starts with the command tag, `COMMIT` for a commit. The only
//! untyped server bytes are the one-byte answers to an SSL or GSS encryption request at the very
//! start: `N` (go on in plain text) is skipped; `S`/`G` (encrypted from here) stop the watch, since
//! nothing after them can be read.

const COMMIT_TAG: &[u8] = b"COMMIT";
/// Type byte, length, and the tag bytes needed to recognise `COMMIT`.
const DECIDE_AT: usize = 5 + COMMIT_TAG.len();

/// Follows the message boundaries of one server-to-client stream.
#[derive(Debug, Default)]
pub(crate) struct CommitWatch {
    /// Bytes of the current message's body still to pass through unread.
    skip: usize,
    /// The start of the current message, held back until it is known not to be a commit's
    /// acknowledgement.
    head: Vec<u8>,
    /// Bytes seen so far (to recognise the untyped first byte).
    seen: u64,
    /// The stream became unreadable (encrypted); everything passes.
    blind: bool,
}

/// What to do with a chunk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Watched {
    /// Bytes that may go on to the client now.
    pub pass: Vec<u8>,
    /// A commit's acknowledgement starts right after `pass`: the bytes from there on were held back.
    pub commit: bool,
}

impl CommitWatch {
    /// Feeds the next bytes of the stream.
    pub fn feed(&mut self, data: &[u8]) -> Watched {
        let mut pass = Vec::with_capacity(data.len());
        let mut rest = data;
        while !rest.is_empty() {
            if self.blind {
                pass.extend_from_slice(rest);
                break;
            }
            if self.seen == 0 && self.head.is_empty() && matches!(rest[0], b'N' | b'S' | b'G') {
                // The answer to an encryption request (a real first message is `R` or `E`).
                pass.push(rest[0]);
                self.blind = rest[0] != b'N';
                self.seen = 1;
                rest = &rest[1..];
                continue;
            }
            if self.skip > 0 {
                let n = self.skip.min(rest.len());
                pass.extend_from_slice(&rest[..n]);
                self.skip -= n;
                self.seen += n as u64;
                rest = &rest[n..];
                continue;
            }
            // At a message start: gather its head.
            let want = if self.head.len() < 5 {
                5
            } else {
                self.decide_len()
            };
            let n = (want - self.head.len()).min(rest.len());
            self.head.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.head.len() < want {
                break;
            }
            if self.head.len() == 5 && self.decide_len() > 5 {
                continue; // a CommandComplete: read its tag before deciding
            }
            if self.head[0] == b'C' && self.head[5..].starts_with(COMMIT_TAG) {
                return Watched { pass, commit: true };
            }
            let total = self.total_len();
            let head = std::mem::take(&mut self.head);
            self.seen += head.len() as u64;
            self.skip = total.saturating_sub(head.len());
            pass.extend_from_slice(&head);
        }
        Watched {
            pass,
            commit: false,
        }
    }

    /// Type byte plus length: the whole message's size.
    fn total_len(&self) -> usize {
        let len = u32::from_be_bytes([self.head[1], self.head[2], self.head[3], self.head[4]]);
        1 + len as usize
    }

    /// How much of the head to hold before deciding, once type and length are known.
    fn decide_len(&self) -> usize {
        if self.head[0] == b'C' {
            DECIDE_AT.min(self.total_len())
        } else {
            5
        }
    }
}

/// A server message: type byte, length, body (for tests here and in the chain).
#[cfg(test)]
pub(crate) fn msg(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    m.extend_from_slice(body);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's answer to `BEGIN; INSERT ...; COMMIT`, then what follows the commit.
    fn stream() -> (Vec<u8>, usize) {
        let mut s = msg(b'C', b"BEGIN\0");
        s.extend(msg(b'C', b"INSERT 0 5\0"));
        s.extend(msg(b'Z', b"T"));
        let before = s.len();
        s.extend(msg(b'C', b"COMMIT\0"));
        s.extend(msg(b'Z', b"I"));
        (s, before)
    }

    #[test]
    fn finds_the_commit_acknowledgement_in_any_chunking() {
        let (s, before) = stream();
        for chunk in 1..=s.len() {
            let mut w = CommitWatch::default();
            let mut passed = Vec::new();
            let mut found = false;
            for c in s.chunks(chunk) {
                let out = w.feed(c);
                passed.extend(out.pass);
                if out.commit {
                    found = true;
                    break;
                }
            }
            assert!(found, "chunk {chunk}: no commit found");
            assert_eq!(passed, s[..before], "chunk {chunk}: passed the wrong bytes");
        }
    }

    #[test]
    fn other_tags_and_short_command_completes_pass() {
        let mut s = msg(b'C', b"COMMENT\0"); // not a commit, shares no full prefix
        s.extend(msg(b'C', b"COPY 7\0"));
        s.extend(msg(b'C', b"\0")); // shorter than a tag
        s.extend(msg(b'D', b"COMMIT in a data row"));
        s.extend(msg(b'C', b"ROLLBACK\0"));
        let mut w = CommitWatch::default();
        let out = w.feed(&s);
        assert_eq!(
            out,
            Watched {
                pass: s.clone(),
                commit: false
            }
        );
    }

    #[test]
    fn an_encryption_refusal_is_skipped_and_acceptance_makes_it_blind() {
        let mut s = vec![b'N'];
        s.extend(msg(b'R', &[0, 0, 0, 0]));
        s.extend(msg(b'C', b"COMMIT\0"));
        let out = CommitWatch::default().feed(&s);
        assert!(out.commit);
        assert_eq!(out.pass, s[..1 + 9]);

        let mut s = vec![b'S'];
        s.extend(msg(b'C', b"COMMIT\0"));
        assert_eq!(
            CommitWatch::default().feed(&s),
            Watched {
                pass: s.clone(),
                commit: false
            }
        );
    }
}
