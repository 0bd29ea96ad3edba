//! Is a value unguessable? Checks for values that must come from a secure
//! random source: lesson 03's `state` (RFC 6749 §10.10, §10.12) and lesson 06's
//! PKCE verifier (RFC 7636 §7.1).
//!
//! Length and alphabet say nothing about randomness: nanoseconds since the
//! epoch, a counter, or 16 random bytes followed by 16 fixed ones all have the
//! right length in base64url. So the samples are decoded to their bytes and
//! judged:
//!
//! - every bit position is 1 in about half of the samples: a byte taken from a
//!   clock, a counter or a constant has bits that (almost) never change;
//! - any two bit positions agree in about half of the samples: a byte made
//!   from another (a copy, a rotation, a few random bytes spread out) agrees
//!   with it far too often or too rarely;
//! - no 8 bytes in a row occur twice, within one value or across values: a
//!   shared prefix or suffix, a repeated block, a small random number spread
//!   over many bytes.
//!
//! Both bounds are generous: a correct answer fails by chance with probability
//! below 1e-9 (computed in [`bit_bound`] and [`WINDOW`]). What they cannot see:
//! a generator that only looks random, such as one seeded with the clock or
//! with a fixed number. Its values pass; only reading the code shows it. The
//! chapters say so.

use std::collections::HashMap;

/// How many samples the checks draw.
pub const SAMPLES: usize = 256;

/// A run of this many bytes must not occur twice. For random bytes, two given
/// runs are equal with probability 2^-64; with 256 samples of 32 bytes there are
/// about 6,400 runs, so about 2·10^7 pairs: a false failure has probability
/// below 2·10^7 · 2^-64 ≈ 1.1·10^-12.
pub const WINDOW: usize = 8;

/// The range a count must fall in, for `n` samples and `tests` counts of
/// independent fair coin flips. Hoeffding's inequality: P(|count − n/2| ≥ t) ≤
/// 2·exp(−2t²/n) for one count; over all of them (a union bound) that stays below
/// 2.5·10^-10 when t = √(n/2 · ln(2·tests / 2.5·10^-10)). The bit counts and the
/// pair counts each get that share, the repeated runs less than 10^-11: in all,
/// a correct answer fails by chance with probability below 10^-9. For 256
/// samples of 32 bytes: ones 67..=189, agreements 62..=194.
pub fn bound(n: usize, tests: usize) -> (usize, usize) {
    let delta = 2.5e-10_f64;
    let t = ((n as f64) / 2.0 * (2.0 * tests as f64 / delta).ln())
        .sqrt()
        .ceil() as usize;
    (n / 2 - t.min(n / 2), n / 2 + t)
}

/// Judges decoded samples of `what` (at least 16 bytes each). `Err` says what
/// is not random, without showing any value whole.
pub fn judge(what: &str, samples: &[Vec<u8>]) -> Result<(), String> {
    let n = samples.len();
    let len = samples.iter().map(Vec::len).min().unwrap_or(0);
    if n < 64 || len < 16 {
        return Err(format!(
            "{n} {what}s of at least {len} bytes are too few to judge: each should be 32 random bytes"
        ));
    }
    // Judge at most 64 bytes: 512 bit positions, 130,816 pairs.
    let len = len.min(64);
    let positions = len * 8;
    let words = n.div_ceil(64);
    // columns[p]: bit p of every sample, packed.
    let mut columns = vec![vec![0u64; words]; positions];
    for (i, sample) in samples.iter().enumerate() {
        for (p, column) in columns.iter_mut().enumerate() {
            if sample[p / 8] >> (7 - p % 8) & 1 == 1 {
                column[i / 64] |= 1 << (i % 64);
            }
        }
    }
    let ones = |c: &[u64]| c.iter().map(|w| w.count_ones() as usize).sum::<usize>();
    let (low, high) = bound(n, positions);
    for (p, column) in columns.iter().enumerate() {
        let (byte, bit) = (p / 8, p % 8);
        let ones = ones(column);
        if ones < low || ones > high {
            return Err(format!(
                "byte {byte} of the {what} is not random: its bit {bit} (0 is the highest) was 1 in {ones} of {n} {what}s; \
                 random bytes give about {half} (anything from {low} to {high} passes). \
                 A clock, a counter or a fixed byte does this: fill every byte from the operating \
                 system's random source (getrandom::getrandom)",
                half = n / 2
            ));
        }
    }
    let (low, high) = bound(n, positions * (positions - 1) / 2);
    for p in 0..positions {
        for q in p + 1..positions {
            let differ: Vec<u64> = columns[p]
                .iter()
                .zip(&columns[q])
                .map(|(a, b)| a ^ b)
                .collect();
            let agree = n - ones(&differ);
            if agree < low || agree > high {
                return Err(format!(
                    "bytes {} and {} of the {what} depend on each other: bit {} of one and bit {} of the other \
                     were equal in {agree} of {n} {what}s; independent random bytes give about {half} \
                     (anything from {low} to {high} passes). Copying, shifting or spreading a few random \
                     bytes does this: fill every byte from the operating system's random source \
                     (getrandom::getrandom)",
                    p / 8,
                    q / 8,
                    p % 8,
                    q % 8,
                    half = n / 2
                ));
            }
        }
    }
    let mut seen: HashMap<&[u8], (usize, usize)> = HashMap::new();
    for (i, sample) in samples.iter().enumerate() {
        for at in 0..=sample.len() - WINDOW {
            let run = &sample[at..at + WINDOW];
            if let Some(&(j, first)) = seen.get(run) {
                let place = |k: usize, p: usize| format!("{what} {k} at byte {p}");
                return Err(format!(
                    "the same {WINDOW} bytes occur twice ({} and {}): random bytes practically never repeat. \
                     Part of each {what} is fixed, repeated or taken from a small range: fill every byte \
                     from the operating system's random source (getrandom::getrandom)",
                    place(j, first),
                    place(i, at)
                ));
            }
            seen.insert(run, (i, at));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os_random(n: usize, len: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| {
                let mut b = vec![0u8; len];
                getrandom(&mut b);
                b
            })
            .collect()
    }

    fn getrandom(buf: &mut [u8]) {
        getrandom::getrandom(buf).expect("a random source");
    }

    #[test]
    fn the_bound_for_the_lessons_is_wide() {
        assert_eq!(bound(256, 256), (67, 189));
        assert_eq!(bound(256, 256 * 255 / 2), (62, 194));
    }

    #[test]
    fn random_bytes_pass() {
        for _ in 0..20 {
            judge("value", &os_random(SAMPLES, 32)).unwrap();
        }
    }

    #[test]
    fn clock_nanoseconds_fail() {
        let start = 1_764_540_000_000_000_000u128;
        let samples: Vec<Vec<u8>> = (0..SAMPLES as u128)
            .map(|i| (start + i * 1_337).to_le_bytes().to_vec())
            .collect();
        let e = judge("state", &samples).unwrap_err();
        assert!(e.contains("is not random"), "{e}");
    }

    #[test]
    fn half_random_fails() {
        let mut samples = os_random(SAMPLES, 32);
        for s in &mut samples {
            s[16..].fill(7);
        }
        assert!(judge("verifier", &samples).is_err());
    }

    #[test]
    fn a_few_bytes_spread_out_fail() {
        let samples: Vec<Vec<u8>> = os_random(SAMPLES, 8)
            .into_iter()
            .map(|r| {
                (0..32)
                    .map(|i| r[i % 8].rotate_left(i as u32 / 8))
                    .collect()
            })
            .collect();
        let e = judge("verifier", &samples).unwrap_err();
        assert!(e.contains("depend on each other"), "{e}");
    }

    #[test]
    fn a_repeated_block_fails() {
        let samples: Vec<Vec<u8>> = os_random(SAMPLES, 4)
            .into_iter()
            .map(|b| b.repeat(8))
            .collect();
        assert!(judge("state", &samples).is_err());
    }
}
