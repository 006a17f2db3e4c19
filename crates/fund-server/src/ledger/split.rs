//! Splitting an amount across a wallet's buckets in proportion, exactly.

/// Splits `amount` across `parts` in proportion to them, in whole minor units, so that the
/// shares add up to `amount` and no share exceeds its part. Largest remainders get the
/// leftover units; ties go to the earlier part (principal before bonus before yield).
///
/// Returns `None` when `amount` is negative or larger than the parts together.
pub fn split_proportionally<const N: usize>(amount: i64, parts: [i64; N]) -> Option<[i64; N]> {
    if amount < 0 || parts.iter().any(|part| *part < 0) {
        return None;
    }
    let total: i128 = parts.iter().map(|part| i128::from(*part)).sum();
    if i128::from(amount) > total {
        return None;
    }
    if amount == 0 || total == 0 {
        return Some([0; N]);
    }
    let mut shares = [0_i64; N];
    let mut remainders = [0_i128; N];
    for (index, part) in parts.iter().enumerate() {
        let product = i128::from(amount) * i128::from(*part);
        // Each share is at most its part, so it fits in i64.
        shares[index] = i64::try_from(product / total).ok()?;
        remainders[index] = product % total;
    }
    let mut leftover = amount - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..N).collect();
    // Stable sort: equal remainders keep part order.
    order.sort_by(|left, right| remainders[*right].cmp(&remainders[*left]));
    for index in order {
        if leftover == 0 {
            break;
        }
        if remainders[index] > 0 {
            shares[index] += 1;
            leftover -= 1;
        }
    }
    debug_assert_eq!(leftover, 0);
    debug_assert!(shares.iter().zip(parts.iter()).all(|(share, part)| share <= part));
    Some(shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_examples() {
        assert_eq!(split_proportionally(100, [300, 100, 0]), Some([75, 25, 0]));
        assert_eq!(split_proportionally(5, [0, 3, 3]), Some([0, 3, 2]));
        assert_eq!(split_proportionally(1, [1, 1, 1]), Some([1, 0, 0]));
        assert_eq!(split_proportionally(0, [1, 1, 1]), Some([0, 0, 0]));
        assert_eq!(split_proportionally(4, [1, 1, 1]), None);
        assert_eq!(split_proportionally(-1, [1, 1, 1]), None);
    }

    proptest! {
        #[test]
        fn shares_add_up_and_never_exceed_their_part(
            parts in proptest::array::uniform3(0_i64..1_000_000_000),
            numerator in 0_u32..=1000,
        ) {
            let total: i64 = parts.iter().sum();
            let amount = total * i64::from(numerator) / 1000;
            let shares = split_proportionally(amount, parts).unwrap();
            prop_assert_eq!(shares.iter().sum::<i64>(), amount);
            for (share, part) in shares.iter().zip(parts.iter()) {
                prop_assert!(*share >= 0 && share <= part);
            }
        }
    }
}
