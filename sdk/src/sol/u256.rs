//! `uint256`: the Solidity ABI's amount type, with the checked arithmetic
//! a token needs.

use core::{cmp::Ordering, fmt};

/// An unsigned 256-bit integer (Solidity's `uint256`), four 64-bit limbs,
/// least significant first. Arithmetic is checked: a contract reverts
/// where Solidity 0.8 would panic.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct U256([u64; 4]);

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);
    /// One.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// 2²⁵⁶ − 1.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// The value of 32 big-endian bytes (an ABI word).
    pub const fn from_be_bytes(bytes: [u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        let mut i = 0;
        while i < 4 {
            let mut limb = [0u8; 8];
            let mut j = 0;
            while j < 8 {
                limb[j] = bytes[24 - 8 * i + j];
                j += 1;
            }
            limbs[i] = u64::from_be_bytes(limb);
            i += 1;
        }
        U256(limbs)
    }

    /// Its 32 big-endian bytes.
    pub const fn to_be_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 4 {
            let limb = self.0[i].to_be_bytes();
            let mut j = 0;
            while j < 8 {
                out[24 - 8 * i + j] = limb[j];
                j += 1;
            }
            i += 1;
        }
        out
    }

    /// Whether it is zero.
    pub const fn is_zero(self) -> bool {
        self.0[0] == 0 && self.0[1] == 0 && self.0[2] == 0 && self.0[3] == 0
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: U256) -> Option<U256> {
        let mut out = [0u64; 4];
        let mut carry = false;
        let mut i = 0;
        while i < 4 {
            let (sum, c1) = self.0[i].overflowing_add(rhs.0[i]);
            let (sum, c2) = sum.overflowing_add(carry as u64);
            out[i] = sum;
            carry = c1 || c2;
            i += 1;
        }
        if carry { None } else { Some(U256(out)) }
    }

    /// `self - rhs`, or `None` when `rhs` is larger.
    pub const fn checked_sub(self, rhs: U256) -> Option<U256> {
        let mut out = [0u64; 4];
        let mut borrow = false;
        let mut i = 0;
        while i < 4 {
            let (diff, b1) = self.0[i].overflowing_sub(rhs.0[i]);
            let (diff, b2) = diff.overflowing_sub(borrow as u64);
            out[i] = diff;
            borrow = b1 || b2;
            i += 1;
        }
        if borrow { None } else { Some(U256(out)) }
    }

    /// `self * rhs`, or `None` on overflow.
    pub fn checked_mul(self, rhs: U256) -> Option<U256> {
        let mut wide = [0u64; 8];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &b) in rhs.0.iter().enumerate() {
                let t = u128::from(a) * u128::from(b) + u128::from(wide[i + j]) + carry;
                wide[i + j] = t as u64;
                carry = t >> 64;
            }
            wide[i + 4] = carry as u64;
        }
        wide[4..]
            .iter()
            .all(|l| *l == 0)
            .then(|| U256([wide[0], wide[1], wide[2], wide[3]]))
    }

    /// Its value when it fits in a `u128`.
    pub const fn to_u128(self) -> Option<u128> {
        if self.0[2] == 0 && self.0[3] == 0 {
            Some((self.0[1] as u128) << 64 | self.0[0] as u128)
        } else {
            None
        }
    }

    /// `self / 10` and the remainder (for printing).
    fn div_rem_10(self) -> (U256, u64) {
        let mut out = [0u64; 4];
        let mut rem = 0u128;
        for i in (0..4).rev() {
            let cur = rem << 64 | u128::from(self.0[i]);
            out[i] = (cur / 10) as u64;
            rem = cur % 10;
        }
        (U256(out), rem as u64)
    }
}

impl From<u128> for U256 {
    fn from(value: u128) -> U256 {
        U256([value as u64, (value >> 64) as u64, 0, 0])
    }
}

impl From<u64> for U256 {
    fn from(value: u64) -> U256 {
        U256([value, 0, 0, 0])
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &U256) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &U256) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// In decimal, as Solidity tools print amounts.
impl fmt::Display for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 78];
        let mut n = 0;
        let mut rest = *self;
        loop {
            let (q, r) = rest.div_rem_10();
            digits[n] = b'0' + r as u8;
            n += 1;
            rest = q;
            if rest.is_zero() {
                break;
            }
        }
        for d in digits[..n].iter().rev() {
            fmt::Write::write_char(f, char::from(*d))?;
        }
        Ok(())
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// In Ward's codec (storage values and keys), the 32 big-endian bytes.
impl crate::codec::Encode for U256 {
    fn encode_to(&self, out: &mut alloc::vec::Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}

impl crate::codec::Decode for U256 {
    const SIZE_HINT: usize = 32;

    fn decode_from(input: &mut &[u8]) -> Result<Self, crate::codec::DecodeError> {
        <[u8; 32] as crate::codec::Decode>::decode_from(input).map(U256::from_be_bytes)
    }
}
