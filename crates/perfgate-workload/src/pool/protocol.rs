//! The pool's wire protocol: length-prefixed frames over a pair of pipes.
//!
//! Every frame is `[len: u32 LE][body: len bytes]`. The worker's first frame is the hello,
//! `MAGIC, VERSION: u32 LE, pid: u32 LE`, so that a parent never talks to a worker of another
//! protocol version. Requests are `[id: u64 LE][kind: u8][payload]`, responses
//! `[id: u64 LE][status: u8][payload]`; a worker answers in request order, so the parent checks
//! each response against the oldest task it sent to that worker.

use std::time::Duration;

/// Protocol version announced in the hello frame.
pub const VERSION: u32 = 1;
/// First bytes of the hello frame.
pub const MAGIC: [u8; 4] = *b"PGWK";
/// Bytes of a request or response frame before its payload (length, id, kind or status).
pub const HEADER: usize = 4 + 8 + 1;
/// Largest accepted frame body: a corrupt length must not make either side allocate gigabytes.
pub const MAX_BODY: usize = 64 << 20;
/// Largest payload a task may carry.
pub const MAX_PAYLOAD: usize = MAX_BODY - 9;

/// Response status: the payload is the task's result.
pub const STATUS_OK: u8 = 0;
/// Response status: the payload is a UTF-8 message saying why the worker refused the task.
pub const STATUS_ERROR: u8 = 1;

/// What a worker does with a task's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TaskKind {
    /// Returns the payload unchanged.
    Echo = 0,
    /// Returns the FNV-1a 64-bit hash of the payload, 8 bytes little-endian.
    Checksum = 1,
    /// Sleeps for the microseconds in the payload (u64 LE), returns nothing.
    Sleep = 2,
    /// Aborts the worker process: the failure path of tests.
    Crash = 3,
    /// Never answers: the timeout path of tests.
    Hang = 4,
}

impl TaskKind {
    /// The kind of a wire code, if known.
    pub fn from_code(code: u8) -> Option<TaskKind> {
        Some(match code {
            0 => TaskKind::Echo,
            1 => TaskKind::Checksum,
            2 => TaskKind::Sleep,
            3 => TaskKind::Crash,
            4 => TaskKind::Hang,
            _ => return None,
        })
    }

    /// Whether the worker answers at once, so that it may keep the answer for a batched write.
    pub fn is_instant(self) -> bool {
        matches!(self, TaskKind::Echo | TaskKind::Checksum)
    }
}

/// A frame that cannot be understood; either side treats the peer as broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A length field beyond [`MAX_BODY`].
    #[error("frame of {0} bytes exceeds the {MAX_BODY}-byte limit")]
    TooLong(usize),
    /// A body shorter than its fixed fields.
    #[error("frame body of {0} bytes is too short")]
    TooShort(usize),
    /// A hello that is not one.
    #[error("bad hello frame (not a perfgate worker?)")]
    BadHello,
    /// A hello of another protocol version.
    #[error("worker speaks protocol version {0}, this pool speaks {VERSION}")]
    Version(u32),
}

/// One decoded request or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Task id chosen by the parent.
    pub id: u64,
    /// Task kind (request) or status (response).
    pub code: u8,
    /// The payload.
    pub payload: &'a [u8],
}

/// Appends one request or response frame to `out`.
#[inline]
pub fn encode(out: &mut Vec<u8>, id: u64, code: u8, payload: &[u8]) {
    out.reserve(HEADER + payload.len());
    out.extend_from_slice(&((payload.len() + 9) as u32).to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.push(code);
    out.extend_from_slice(payload);
}

/// Appends the hello frame of the worker with process id `pid`.
pub fn encode_hello(out: &mut Vec<u8>, pid: u32) {
    out.extend_from_slice(&12u32.to_le_bytes());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&pid.to_le_bytes());
}

/// The worker's pid from a hello body, after checking magic and version.
pub fn decode_hello(body: &[u8]) -> Result<u32, ProtocolError> {
    if body.len() != 12 || body[..4] != MAGIC {
        return Err(ProtocolError::BadHello);
    }
    let version = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(ProtocolError::Version(version));
    }
    Ok(u32::from_le_bytes(body[8..12].try_into().expect("4 bytes")))
}

/// Decodes a request or response body.
#[inline]
pub fn decode(body: &[u8]) -> Result<Frame<'_>, ProtocolError> {
    if body.len() < 9 {
        return Err(ProtocolError::TooShort(body.len()));
    }
    Ok(Frame {
        id: u64::from_le_bytes(body[..8].try_into().expect("8 bytes")),
        code: body[8],
        payload: &body[9..],
    })
}

/// The payload of a sleep task.
pub fn sleep_payload(d: Duration) -> [u8; 8] {
    (d.as_micros().min(u64::MAX as u128) as u64).to_le_bytes()
}

/// FNV-1a, 64 bits: the worker's checksum task.
pub fn checksum(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A read buffer that yields whole frames: bytes arrive in arbitrary chunks, frames leave whole.
#[derive(Debug)]
pub struct FrameBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl FrameBuf {
    /// A buffer of `capacity` bytes (grown when a frame needs more).
    pub fn new(capacity: usize) -> Self {
        FrameBuf {
            buf: vec![0; capacity.max(64)],
            start: 0,
            end: 0,
        }
    }

    /// Free space to read into: the unread bytes move to the front first, and the buffer
    /// doubles when an incomplete frame fills it.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 && self.buf.len() - self.end < self.buf.len() / 4 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let len = self.buf.len() * 2;
            self.buf.resize(len, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes of [`FrameBuf::spare`] as read.
    pub fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.buf.len());
    }

    /// The next whole frame's body, if one has arrived.
    #[inline]
    pub fn next_body(&mut self) -> Result<Option<&[u8]>, ProtocolError> {
        let avail = self.end - self.start;
        if avail < 4 {
            return Ok(None);
        }
        let len_bytes: [u8; 4] = self.buf[self.start..self.start + 4]
            .try_into()
            .expect("4 bytes");
        let len = u32::from_le_bytes(len_bytes) as usize;
        if len > MAX_BODY {
            return Err(ProtocolError::TooLong(len));
        }
        if avail < 4 + len {
            return Ok(None);
        }
        let body = self.start + 4;
        self.start = body + len;
        Ok(Some(&self.buf[body..body + len]))
    }

    /// Whether bytes of an incomplete frame are waiting.
    pub fn has_partial(&self) -> bool {
        self.start != self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_any_chunking() {
        let mut wire = Vec::new();
        encode_hello(&mut wire, 42);
        let payloads: Vec<Vec<u8>> = (0..50).map(|i| vec![i as u8; i * 7]).collect();
        for (i, p) in payloads.iter().enumerate() {
            encode(&mut wire, i as u64 * 3, (i % 5) as u8, p);
        }
        for chunk in [1, 3, 13, 64, 1000] {
            let mut fb = FrameBuf::new(64);
            let mut got = Vec::new();
            let mut hello = None;
            for piece in wire.chunks(chunk) {
                let mut rest = piece;
                while !rest.is_empty() {
                    let spare = fb.spare();
                    let n = spare.len().min(rest.len());
                    spare[..n].copy_from_slice(&rest[..n]);
                    fb.filled(n);
                    rest = &rest[n..];
                    while let Some(body) = fb.next_body().unwrap() {
                        if hello.is_none() {
                            hello = Some(decode_hello(body).unwrap());
                            continue;
                        }
                        let f = decode(body).unwrap();
                        got.push((f.id, f.code, f.payload.to_vec()));
                    }
                }
            }
            assert_eq!(hello, Some(42));
            assert!(!fb.has_partial());
            assert_eq!(got.len(), payloads.len(), "chunk {chunk}");
            for (i, (id, code, p)) in got.iter().enumerate() {
                assert_eq!((*id, *code, p), (i as u64 * 3, (i % 5) as u8, &payloads[i]));
            }
        }
    }

    #[test]
    fn corrupt_frames_are_refused() {
        let mut fb = FrameBuf::new(64);
        fb.spare()[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        fb.filled(4);
        assert_eq!(
            fb.next_body(),
            Err(ProtocolError::TooLong(u32::MAX as usize))
        );
        assert_eq!(decode(&[1, 2, 3]), Err(ProtocolError::TooShort(3)));
        assert_eq!(decode_hello(b"nope"), Err(ProtocolError::BadHello));
        let mut hello = Vec::new();
        encode_hello(&mut hello, 7);
        hello[8] = 9; // version 9
        assert_eq!(decode_hello(&hello[4..]), Err(ProtocolError::Version(9)));
    }

    #[test]
    fn checksum_is_fnv1a() {
        assert_eq!(checksum(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(checksum(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(TaskKind::from_code(2), Some(TaskKind::Sleep));
        assert_eq!(TaskKind::from_code(200), None);
    }
}
