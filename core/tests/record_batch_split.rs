//! Splitting concatenated batches: complete batches come out validated, a cut-off last batch is
//! a torn tail (what recovery truncates), and a corrupt complete batch is an error naming where
//! it starts.

use bytes::Bytes;
use kafkalab_core::ids::Offset;
use kafkalab_core::record_batch::{
    concatenate, encode, split_batches, BatchError, BatchHeader, Record, RecordBatch, SplitBatches, SplitError,
    TornTail,
};

fn batch(base_offset: i64, values: &[&str]) -> RecordBatch {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(delta, value)| Record::new(delta as i32, 0, None, Some(Bytes::copy_from_slice(value.as_bytes()))))
        .collect();
    encode(&BatchHeader::new(Offset(base_offset), 0).fitted_to(&records), &records).unwrap()
}

fn three_batches() -> Vec<RecordBatch> {
    vec![batch(0, &["a", "bb"]), batch(2, &["ccc"]), batch(3, &["d", "e", "f"])]
}

#[test]
fn concatenated_batches_split_back_into_the_same_batches() {
    let batches = three_batches();
    let split = split_batches(&concatenate(&batches)).unwrap();
    assert_eq!(split, SplitBatches { batches, torn_tail: None });
}

#[test]
fn an_empty_buffer_holds_no_batches() {
    assert_eq!(split_batches(&Bytes::new()), Ok(SplitBatches { batches: vec![], torn_tail: None }));
}

/// Every cut of the buffer: the batches wholly before the cut, and a torn tail unless the cut
/// falls on a batch boundary.
#[test]
fn a_buffer_cut_anywhere_gives_the_whole_batches_and_a_torn_tail() {
    let batches = three_batches();
    let buffer = concatenate(&batches);
    let starts: Vec<usize> = batches
        .iter()
        .scan(0, |position, batch| {
            let start = *position;
            *position += batch.size_bytes();
            Some(start)
        })
        .collect();
    for cut in 0..=buffer.len() {
        let split = split_batches(&buffer.slice(..cut)).unwrap();
        let whole = starts.iter().zip(&batches).filter(|(start, batch)| *start + batch.size_bytes() <= cut).count();
        assert_eq!(split.batches, batches[..whole], "cut at {cut}");
        let torn_tail = (whole < batches.len() && starts[whole] < cut).then(|| {
            let available_bytes = cut - starts[whole];
            let needed_bytes = (available_bytes >= 12).then(|| batches[whole].size_bytes());
            TornTail { position: starts[whole], available_bytes, needed_bytes }
        });
        assert_eq!(split.torn_tail, torn_tail, "cut at {cut}");
    }
}

#[test]
fn a_corrupt_complete_batch_is_an_error_at_its_position() {
    let batches = three_batches();
    let mut bytes = concatenate(&batches).to_vec();
    let second = batches[0].size_bytes();
    bytes[second + 40] ^= 0x80;
    let error = split_batches(&Bytes::from(bytes)).unwrap_err();
    assert_eq!((error.batch_index, error.position), (1, second));
    assert!(matches!(error.error, BatchError::CrcMismatch { .. }), "{error}");
    assert!(error.to_string().starts_with(&format!("batch 1 at byte {second} of the buffer: CRC at offset 17")));
}

#[test]
fn a_batch_length_too_small_for_a_header_is_corruption_not_a_tear() {
    let mut bytes = concatenate(&three_batches()).to_vec();
    bytes[8..12].copy_from_slice(&0i32.to_be_bytes());
    let error = split_batches(&Bytes::from(bytes)).unwrap_err();
    let expected =
        SplitError { batch_index: 0, position: 0, error: BatchError::BatchLengthTooSmall { batch_length: 0 } };
    assert_eq!(error, expected);
}

#[test]
fn split_batches_share_the_buffer() {
    let buffer = concatenate(&three_batches());
    let split = split_batches(&buffer).unwrap();
    let second = &split.batches[1];
    let start = split.batches[0].size_bytes();
    assert_eq!(second.as_bytes().as_ptr(), buffer[start..].as_ptr());
}
