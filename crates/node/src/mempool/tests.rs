use ward_chain::tx::{Payload, TxBody};
use ward_devkeys as devkeys;

use super::*;

fn tx(key: u32, nonce: u64, gas: u64) -> VerifiedTx {
    priced(key, nonce, gas, 0)
}

fn priced(key: u32, nonce: u64, gas: u64, price: u128) -> VerifiedTx {
    signed(key, nonce, gas, price, 0)
}

/// A signed transaction with `input` bytes of input.
fn signed(key: u32, nonce: u64, gas: u64, price: u128, input: usize) -> VerifiedTx {
    let key = devkeys::key(key);
    let call = Payload::Call {
        to: Address([1; 32]),
        input: vec![7; input],
    };
    TxBody {
        gas_price: price,
        ..TxBody::new("t", &key.verifying_key(), nonce, gas, call)
    }
    .sign(&key)
    .verify("t")
    .unwrap()
}

fn nonces(pool: &Mempool, max_gas: u64, next: u64) -> Vec<(Address, u64)> {
    pool.take(max_gas, |_| Ok::<_, ()>(next))
        .unwrap()
        .iter()
        .map(|t| (t.sender(), t.nonce()))
        .collect()
}

#[test]
fn refusals_name_their_reason() {
    let mut pool = Mempool::new(2, usize::MAX);
    pool.insert(tx(0, 5, 1), 5, None).unwrap();
    assert_eq!(
        pool.insert(tx(0, 5, 1), 5, None),
        Err(PoolRule::Known(tx(0, 5, 1).hash()))
    );
    assert_eq!(
        pool.insert(tx(0, 5, 2), 5, None),
        Err(PoolRule::Underpriced { pending: 0, got: 0 })
    );
    assert_eq!(
        pool.insert(tx(0, 4, 1), 5, None),
        Err(PoolRule::NonceUsed { next: 5, got: 4 })
    );
    assert_eq!(
        pool.insert(tx(0, 5 + MAX_NONCE_GAP, 1), 5, None),
        Err(PoolRule::NonceTooFar {
            next: 5,
            got: 5 + MAX_NONCE_GAP
        })
    );
    pool.insert(tx(1, 0, 1), 0, None).unwrap();
    assert_eq!(
        pool.insert(tx(2, 0, 1), 0, None),
        Err(PoolRule::FullAtPrice {
            capacity: 2,
            cheapest: 0,
            got: 0
        })
    );
    // Behind a gap, full is full whatever it pays.
    assert_eq!(
        pool.insert(priced(3, 1, 1, 9), 0, None),
        Err(PoolRule::Full(2))
    );
    assert_eq!(pool.len(), 2);
}

#[test]
fn blocks_take_the_highest_price_first_each_sender_in_nonce_order() {
    let mut pool = Mempool::new(100, usize::MAX);
    let (a, b, c) = (
        tx(0, 0, 1).sender(),
        tx(1, 0, 1).sender(),
        tx(2, 0, 1).sender(),
    );
    pool.insert(priced(0, 0, 1, 1), 0, None).unwrap();
    pool.insert(priced(0, 1, 1, 9), 0, None).unwrap(); // behind a's cheap nonce 0
    pool.insert(priced(1, 0, 1, 5), 0, None).unwrap();
    pool.insert(priced(2, 0, 1, 5), 0, None).unwrap(); // same price, later
    assert_eq!(nonces(&pool, 100, 0), [(b, 0), (c, 0), (a, 0), (a, 1)]);
    // A sender whose next transaction does not fit takes no more; the
    // others still do.
    pool.insert(priced(1, 1, 50, 7), 0, None).unwrap();
    assert_eq!(nonces(&pool, 10, 0), [(b, 0), (c, 0), (a, 0), (a, 1)]);
}

#[test]
fn a_replacement_pays_ten_percent_more() {
    let mut pool = Mempool::new(10, usize::MAX);
    let (waiter, mut told) = tokio::sync::oneshot::channel();
    pool.insert(priced(0, 0, 1, 100), 0, Some(waiter)).unwrap();
    for low in [0, 100, 109] {
        assert_eq!(
            pool.insert(priced(0, 0, 2, low), 0, None),
            Err(PoolRule::Underpriced {
                pending: 100,
                got: low
            })
        );
    }
    pool.insert(priced(0, 0, 2, 110), 0, None).unwrap();
    assert_eq!(pool.len(), 1);
    let replaced = told.try_recv().unwrap().unwrap_err();
    assert_eq!(replaced.kind(), "replaced");
    // From a price of 0, any higher price replaces.
    pool.insert(priced(1, 0, 1, 0), 0, None).unwrap();
    pool.insert(priced(1, 0, 2, 1), 0, None).unwrap();
    assert_eq!(pool.len(), 2);
}

#[test]
fn a_full_mempool_drops_its_cheapest_for_a_better_price() {
    let mut pool = Mempool::new(3, usize::MAX);
    pool.insert(priced(0, 0, 1, 5), 0, None).unwrap();
    pool.insert(priced(1, 0, 1, 2), 0, None).unwrap();
    pool.insert(priced(2, 0, 1, 2), 0, None).unwrap();
    // Not above the cheapest: refused.
    assert!(matches!(
        pool.insert(priced(3, 0, 1, 2), 0, None),
        Err(PoolRule::FullAtPrice { cheapest: 2, .. })
    ));
    // Above it: the newest of the cheapest goes.
    pool.insert(priced(3, 0, 1, 3), 0, None).unwrap();
    assert_eq!(pool.len(), 3);
    assert!(pool.contains(&priced(1, 0, 1, 2).hash()));
    assert!(!pool.contains(&priced(2, 0, 1, 2).hash()));
}

#[test]
fn what_a_sender_s_pending_transactions_can_take_is_counted() {
    let mut pool = Mempool::new(10, usize::MAX);
    let sender = tx(0, 0, 1).sender();
    pool.insert(priced(0, 0, 1_000, 3), 0, None).unwrap();
    pool.insert(priced(0, 1, 10, 7), 0, None).unwrap();
    assert_eq!(pool.pending_cost(&sender, 2), 3_070);
    // Leaving out the one a new transaction would replace.
    assert_eq!(pool.pending_cost(&sender, 0), 70);
    pool.evict(
        &priced(0, 0, 1_000, 3).hash(),
        &Refusal::Expired("evicted by the test"),
    );
    assert_eq!(pool.pending_cost(&sender, 5), 70);
    assert_eq!(pool.pending_cost(&tx(1, 0, 1).sender(), 0), 0);
}

#[test]
fn blocks_take_senders_in_arrival_order_and_nonces_in_turn() {
    let mut pool = Mempool::new(100, usize::MAX);
    let (a, b) = (tx(0, 0, 1).sender(), tx(1, 0, 1).sender());
    // a's nonce 1 arrives before its nonce 0; b waits on a gap.
    pool.insert(tx(0, 1, 1), 0, None).unwrap();
    pool.insert(tx(1, 1, 1), 0, None).unwrap();
    pool.insert(tx(0, 0, 1), 0, None).unwrap();
    assert_eq!(nonces(&pool, 100, 0), [(a, 0), (a, 1)]);
    assert_eq!(pool.next_free_nonce(&a, 0), 2);
    assert_eq!(pool.next_free_nonce(&b, 0), 0);
    // b's gap filled: its run follows a's.
    pool.insert(tx(1, 0, 1), 0, None).unwrap();
    assert_eq!(nonces(&pool, 100, 0), [(a, 0), (a, 1), (b, 0), (b, 1)]);
    // The block's gas bounds what is taken.
    assert_eq!(nonces(&pool, 3, 0), [(a, 0), (a, 1), (b, 0)]);
}

#[test]
fn waiters_hear_of_commits_and_evictions() {
    let mut pool = Mempool::new(10, usize::MAX);
    let (one, mut heard_one) = tokio::sync::oneshot::channel();
    let (two, mut heard_two) = tokio::sync::oneshot::channel();
    let first = tx(0, 0, 1);
    let second = tx(0, 1, 1);
    pool.insert(first.clone(), 0, Some(one)).unwrap();
    pool.insert(second.clone(), 0, Some(two)).unwrap();
    let receipt = ward_state::Receipt {
        fee: 0,
        tx: first.hash(),
        height: 1,
        index: 0,
        status: ward_primitives::Status::Ok,
        exit_code: 0,
        output: vec![],
        gas_used: 1,
        events: vec![],
        error_kind: None,
        error_message: None,
        address: None,
        runtime_gas: None,
    };
    pool.committed(
        &first.hash(),
        &Committed {
            receipt,
            block: Hash32([9; 32]),
        },
    );
    assert_eq!(
        heard_one.try_recv().unwrap().unwrap().block,
        Hash32([9; 32])
    );
    // Another transaction used nonce 1: the pending one is stale.
    pool.evict_stale(&first.sender(), 2);
    assert_eq!(heard_two.try_recv().unwrap().unwrap_err().kind(), "nonce");
    assert_eq!(pool.len(), 0);
}

#[test]
fn gapped_transactions_are_bounded_per_sender_and_released_by_their_gap() {
    let mut pool = Mempool::new(1_000, usize::MAX);
    // Next nonce 0: nonces 1.. wait behind the gap at 0.
    for nonce in 1..=MAX_GAPPED_PER_SENDER as u64 {
        pool.insert(tx(0, nonce, 1), 0, None).unwrap();
    }
    assert_eq!(pool.gapped(), MAX_GAPPED_PER_SENDER);
    let next = MAX_GAPPED_PER_SENDER as u64 + 1;
    assert_eq!(
        pool.insert(tx(0, next, 1), 0, None),
        Err(PoolRule::TooManyGapped { next: 0, got: next })
    );
    // Filling the gap makes them runnable, and no longer counted.
    pool.insert(tx(0, 0, 1), 0, None).unwrap();
    assert_eq!(pool.gapped(), 0);
    pool.insert(tx(0, next, 1), 0, None).unwrap();
    assert_eq!(nonces(&pool, u64::MAX, 0).len(), MAX_GAPPED_PER_SENDER + 2);
}

#[test]
fn strangers_with_gaps_cannot_fill_the_mempool() {
    // The finding: fresh keys sending nonces 1..63 (gaps never filled)
    // filled every slot. Now they get a quarter at most, and senders
    // whose transactions can run still get in.
    let capacity = 200;
    let mut pool = Mempool::new(capacity, usize::MAX);
    let mut accepted = 0;
    for key in 0..40 {
        for nonce in 1..MAX_NONCE_GAP {
            if pool.insert(tx(key, nonce, 1), 0, None).is_ok() {
                accepted += 1;
            }
        }
    }
    assert_eq!(accepted, capacity / 4);
    assert_eq!(pool.gapped(), capacity / 4);
    for key in 100..100 + (capacity - capacity / 4) as u32 {
        pool.insert(tx(key, 0, 1), 0, None).unwrap();
    }
    assert_eq!(pool.len(), capacity);
    // Full: a runnable transaction takes a gapped one's place, and the
    // gapped one's waiter hears why; a gapped one is refused.
    let (waiter, mut heard) = tokio::sync::oneshot::channel();
    let mut pool_with_waiter = Mempool::new(2, usize::MAX);
    pool_with_waiter
        .insert(tx(1, 5, 1), 0, Some(waiter))
        .unwrap();
    pool_with_waiter.insert(tx(2, 0, 1), 0, None).unwrap();
    pool_with_waiter.insert(tx(3, 0, 1), 0, None).unwrap();
    assert_eq!(pool_with_waiter.len(), 2);
    assert!(matches!(heard.try_recv(), Ok(Err(_))));
    // No gapped one left: a runnable one must outbid the cheapest.
    assert_eq!(
        pool_with_waiter.insert(tx(4, 0, 1), 0, None),
        Err(PoolRule::FullAtPrice {
            capacity: 2,
            cheapest: 0,
            got: 0
        })
    );
    for key in 300..310 {
        assert!(pool.insert(tx(key, 0, 1), 0, None).is_ok(), "{key}");
    }
    assert_eq!(pool.len(), capacity);
    assert_eq!(pool.gapped(), capacity / 4 - 10);
}

#[test]
fn gapped_transactions_expire_and_every_transaction_does_eventually() {
    let start = ward_vm::clock::now();
    let mut pool = Mempool::new(100, usize::MAX);
    pool.insert_at(tx(0, 3, 1), 0, None, start).unwrap();
    pool.insert_at(tx(1, 0, 1), 0, None, start).unwrap();
    assert_eq!(pool.expire(start + GAPPED_TTL / 2), 0);
    assert_eq!(pool.expire(start + GAPPED_TTL), 1, "the gapped one");
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.expire(start + PENDING_TTL), 1, "the runnable one");
    assert_eq!(pool.len(), 0);
    // Inserts run the expiry themselves.
    pool.insert_at(tx(2, 9, 1), 0, None, start).unwrap();
    pool.insert_at(tx(3, 0, 1), 0, None, start + GAPPED_TTL)
        .unwrap();
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.gapped(), 0);
}

/// A signed transaction with `input` bytes of input, at `price`.
fn sized(key: u32, nonce: u64, price: u128, input: usize) -> VerifiedTx {
    signed(key, nonce, 1, price, input)
}

/// The byte bound: what does not fit is refused with nothing evicted,
/// unless it pays more than enough of the cheapest, which then go (the
/// newest of a price first) and are listed for the shared mempool; a
/// replacement's bytes count as freed; a gapped one displaces nothing.
#[test]
fn the_byte_bound_displaces_the_cheapest_or_refuses_losing_nothing() {
    let one = sized(0, 0, 1, 1000).bytes().len();
    let mut pool = Mempool::new(100, 3 * one);
    pool.insert(sized(0, 0, 1, 1000), 0, None).unwrap();
    pool.insert(sized(1, 0, 2, 1000), 0, None).unwrap();
    pool.insert(sized(2, 0, 1, 1000), 0, None).unwrap();
    assert_eq!(pool.bytes(), 3 * one);
    assert!(pool.take_evicted().is_empty());
    // Needs one and a bit more of the others' bytes: at 1, none pays less.
    let big = sized(3, 0, 1, 1800);
    assert!(matches!(
        pool.insert(big, 0, None),
        Err(PoolRule::FullBytes {
            cheapest: 1,
            got: 1,
            ..
        })
    ));
    assert_eq!((pool.len(), pool.bytes()), (3, 3 * one));
    // At 2, the two paying 1 go, the newest first; the one paying 2 stays.
    let big = sized(3, 0, 2, 1800);
    let big_hash = big.hash();
    pool.insert(big, 0, None).unwrap();
    let gone = pool.take_evicted();
    assert_eq!(
        gone,
        vec![sized(2, 0, 1, 1000).hash(), sized(0, 0, 1, 1000).hash()]
    );
    assert!(pool.contains(&big_hash) && pool.contains(&sized(1, 0, 2, 1000).hash()));
    assert!(pool.bytes() <= 3 * one);
    // A replacement frees its own bytes: a larger one at a higher price
    // fits where the same bytes from a new sender would not.
    let room = 3 * one - pool.bytes();
    let replacement = sized(1, 0, 4, 1000 + room);
    pool.insert(replacement.clone(), 0, None).unwrap();
    assert_eq!(pool.take_evicted(), vec![sized(1, 0, 2, 1000).hash()]);
    // Behind a nonce gap, nothing is displaced whatever it pays.
    assert!(matches!(
        pool.insert(sized(5, 1, 100, 1000), 0, None),
        Err(PoolRule::FullBytes { .. })
    ));
    assert!(pool.take_evicted().is_empty());
    assert!(pool.contains(&replacement.hash()));
}
