//! Kafka's framing: every request and response on the wire is a 4-byte big-endian size
//! followed by that many bytes.
//!
//! [`take_frame`] is a pure check-then-take over the bytes read so far (mini-redis
//! `frame.rs`): it says [`FrameError::Incomplete`] until a whole frame has arrived, and refuses
//! a size no broker would accept before a single byte of it is buffered.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// `socket.request.max.bytes`, Kafka's default: the largest request a broker accepts.
pub const MAX_FRAME_BYTES: usize = 104_857_600;

const SIZE_BYTES: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Not a whole frame yet: read more and try again.
    Incomplete,
    /// The size is negative or over [`MAX_FRAME_BYTES`]; like Kafka, close the connection.
    InvalidSize(i32),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Incomplete => write!(f, "incomplete frame"),
            FrameError::InvalidSize(size) => {
                write!(f, "frame size {size} is outside 0..={MAX_FRAME_BYTES} (socket.request.max.bytes)")
            }
        }
    }
}

/// Takes one frame's payload off the front of `buffer`, leaving the rest for the next call.
pub fn take_frame(buffer: &mut BytesMut) -> Result<Bytes, FrameError> {
    let Some(size_bytes) = buffer.first_chunk::<SIZE_BYTES>() else {
        return Err(FrameError::Incomplete);
    };
    let size = i32::from_be_bytes(*size_bytes);
    let length =
        usize::try_from(size).ok().filter(|&length| length <= MAX_FRAME_BYTES).ok_or(FrameError::InvalidSize(size))?;
    if buffer.len() < SIZE_BYTES + length {
        // Not reserving `length` up front: a client's claim alone should not cost memory.
        return Err(FrameError::Incomplete);
    }
    buffer.advance(SIZE_BYTES);
    Ok(buffer.split_to(length).freeze())
}

/// One frame holding `payload`: its size, then the bytes.
pub fn encode_frame(payload: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(SIZE_BYTES + payload.len());
    // Responses are built by this server and stay far below 2 GiB.
    let size = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    frame.extend_from_slice(&size.to_be_bytes());
    frame.extend_from_slice(payload);
    frame.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(bytes: &[u8]) -> BytesMut {
        BytesMut::from(bytes)
    }

    #[test]
    fn a_short_size_is_incomplete() {
        assert_eq!(take_frame(&mut buffer(&[0, 0, 0])), Err(FrameError::Incomplete));
        assert_eq!(take_frame(&mut buffer(&[])), Err(FrameError::Incomplete));
    }

    #[test]
    fn a_short_payload_is_incomplete_and_left_in_place() {
        let mut bytes = buffer(&[0, 0, 0, 3, 1, 2]);
        assert_eq!(take_frame(&mut bytes), Err(FrameError::Incomplete));
        assert_eq!(&bytes[..], &[0, 0, 0, 3, 1, 2]);
    }

    #[test]
    fn frames_come_off_one_at_a_time() {
        let mut bytes = buffer(&[0, 0, 0, 2, 7, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(take_frame(&mut bytes), Ok(Bytes::from_static(&[7, 8])));
        assert_eq!(take_frame(&mut bytes), Ok(Bytes::new()));
        assert_eq!(take_frame(&mut bytes), Err(FrameError::Incomplete));
        assert_eq!(&bytes[..], &[0, 0, 0, 1]);
    }

    #[test]
    fn sizes_over_socket_request_max_bytes_are_refused_before_buffering() {
        let too_big = (MAX_FRAME_BYTES as i32 + 1).to_be_bytes();
        assert_eq!(take_frame(&mut buffer(&too_big)), Err(FrameError::InvalidSize(MAX_FRAME_BYTES as i32 + 1)));
        assert_eq!(take_frame(&mut buffer(&(-1i32).to_be_bytes())), Err(FrameError::InvalidSize(-1)));
    }

    #[test]
    fn encode_then_take_round_trips() {
        let mut bytes = BytesMut::from(&encode_frame(b"hello")[..]);
        assert_eq!(take_frame(&mut bytes), Ok(Bytes::from_static(b"hello")));
        assert!(bytes.is_empty());
    }
}
