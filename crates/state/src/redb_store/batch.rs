//! Batches: a commit's receipts and transactions are stored as one record
//! each, and indexed by transaction id (`docs/storage-format.md`).

use redb::{ReadableTable, WriteTransaction};
use ward_primitives::Hash32;

use super::{BATCH_KEY, META, RECEIPT_BATCHES, TX_BATCHES, TX_INDEX};
use crate::{Encode, Receipt};

/// Where a transaction's receipt and its encoding are: each a batch
/// number and a position in it (`None`: not stored). Stored as the two in
/// turn, each a `u64` batch and a `u32` position, little-endian, a batch of
/// 0 for none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Place {
    pub(super) receipt: Option<(u64, u32)>,
    pub(super) tx: Option<(u64, u32)>,
}

impl Place {
    pub(super) fn to_bytes(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (i, part) in [self.receipt, self.tx].into_iter().enumerate() {
            let (batch, position) = part.unwrap_or((0, 0));
            out[i * 12..i * 12 + 8].copy_from_slice(&batch.to_le_bytes());
            out[i * 12 + 8..i * 12 + 12].copy_from_slice(&position.to_le_bytes());
        }
        out
    }

    pub(super) fn from_bytes(bytes: &[u8]) -> Option<Place> {
        if bytes.len() != 24 {
            return None;
        }
        let part = |i: usize| {
            let batch = u64::from_le_bytes(bytes[i * 12..i * 12 + 8].try_into().ok()?);
            let position = u32::from_le_bytes(bytes[i * 12 + 8..i * 12 + 12].try_into().ok()?);
            Some((batch != 0).then_some((batch, position)))
        };
        Some(Place {
            receipt: part(0)?,
            tx: part(1)?,
        })
    }
}

/// Items as one record: their count (`u32`), the end offset of each
/// (`u32`), then their bytes.
pub(super) fn pack<'a>(items: impl ExactSizeIterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let count = items.len();
    let total: usize = items.clone().map(<[u8]>::len).sum();
    let mut out = Vec::with_capacity(4 + 4 * count + total);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    let mut end = 0u32;
    for item in items.clone() {
        end += item.len() as u32;
        out.extend_from_slice(&end.to_le_bytes());
    }
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// Item `position` of a record [`pack`] made; `None` when the record is
/// malformed or has no such item.
pub(super) fn unpack(record: &[u8], position: u32) -> Option<&[u8]> {
    let word = |at: usize| -> Option<usize> {
        let bytes = record.get(at..at + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?) as usize)
    };
    let count = word(0)?;
    let position = position as usize;
    if position >= count {
        return None;
    }
    let data = 4 + 4 * count;
    let start = if position == 0 {
        0
    } else {
        word(4 + 4 * (position - 1))?
    };
    let end = word(4 + 4 * position)?;
    record.get(data.checked_add(start)?..data.checked_add(end)?)
}

/// Stores a commit's receipts and transactions as one batch each, under
/// the next batch number, and indexes them by transaction id. An id with
/// only one of the two here keeps the other's place from before.
pub(super) fn store_batch(
    txn: &WriteTransaction,
    receipts: &[Receipt],
    txs: &[(Hash32, Vec<u8>)],
) -> Result<(), redb::Error> {
    if receipts.is_empty() && txs.is_empty() {
        return Ok(());
    }
    let mut meta = txn.open_table(META)?;
    let batch = meta.get(BATCH_KEY)?.map_or(0, |v| v.value()) + 1;
    meta.insert(BATCH_KEY, batch)?;
    let mut places: std::collections::BTreeMap<[u8; 32], Place> = Default::default();
    let encoded: Vec<Vec<u8>> = receipts.iter().map(Receipt::to_bytes).collect();
    if !receipts.is_empty() {
        for (i, receipt) in receipts.iter().enumerate() {
            places.entry(receipt.tx.0).or_default().receipt = Some((batch, i as u32));
        }
        let mut table = txn.open_table(RECEIPT_BATCHES)?;
        table.insert(batch, pack(encoded.iter().map(Vec::as_slice)).as_slice())?;
    }
    if !txs.is_empty() {
        for (i, (id, _)) in txs.iter().enumerate() {
            places.entry(id.0).or_default().tx = Some((batch, i as u32));
        }
        let mut table = txn.open_table(TX_BATCHES)?;
        table.insert(
            batch,
            pack(txs.iter().map(|(_, bytes)| bytes.as_slice())).as_slice(),
        )?;
    }
    let mut index = txn.open_table(TX_INDEX)?;
    for (id, mut place) in places {
        if place.receipt.is_none() || place.tx.is_none() {
            let before = index
                .get(id.as_slice())?
                .and_then(|v| Place::from_bytes(v.value()))
                .unwrap_or_default();
            place.receipt = place.receipt.or(before.receipt);
            place.tx = place.tx.or(before.tx);
        }
        index.insert(id.as_slice(), place.to_bytes().as_slice())?;
    }
    Ok(())
}
