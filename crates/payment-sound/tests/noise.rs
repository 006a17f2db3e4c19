//! How robust the burst is, and that it is honest: in noise, quieter, clipped or cut short,
//! a recording either gives back the token's exact bytes or nothing — never other bytes.
//! (Other bytes would fail the token's signature anyway: tillfund-core's
//! `every_corruption_of_a_token_fails_its_signature`.) The noise is white and Gaussian,
//! seeded, over the whole recording; the SNR is against the burst's own power.
//! The benchmark (`cargo bench --profile dev -p tillfund-e2e --bench pay_by_sound`) counts
//! the rates over many more recordings.

#![allow(clippy::unwrap_used)]

use payment_sound::noise::{clipped, in_noise, resampled, room, scaled};
use payment_sound::{Waveform, decode, encode};

/// Down to this SNR every burst is heard (the benchmark finds 100 % there).
const HEARD_DOWN_TO_DB: f64 = -6.0;
const TRIALS: u64 = 6;
/// Silenced stretches of the burst (as fractions of it) that error correction mends.
const GAPS_MENDED: [(f64, f64); 2] = [(0.5, 0.55), (0.5, 0.6)];
/// Longer ones: mended or refused, depending on where they fall.
const GAPS_MAYBE: [(f64, f64); 2] = [(0.3, 0.45), (0.2, 0.3)];

fn token() -> Vec<u8> {
    // A payment token's shape: version 1, then 83 bytes of ids, amount, expiry and MAC.
    std::iter::once(1)
        .chain((0..83_u8).map(|byte| byte.wrapping_mul(151).wrapping_add(7)))
        .collect()
}

fn heard(recording: &Waveform) -> Option<Vec<u8>> {
    decode(recording).unwrap()
}

#[test]
fn every_burst_is_heard_down_to_the_stated_snr() {
    let burst = encode(&token()).unwrap();
    for snr_db in [20.0, 0.0, -3.0, HEARD_DOWN_TO_DB] {
        for seed in 0..TRIALS {
            let recording = in_noise(&burst, snr_db, 500, seed);
            assert_eq!(heard(&recording), Some(token()), "{snr_db} dB, seed {seed}");
        }
    }
}

#[test]
fn below_it_a_burst_is_heard_whole_or_not_at_all() {
    let burst = encode(&token()).unwrap();
    let mut heard_whole = 0;
    for snr_db in [-8.0, -10.0, -12.0, -15.0, -20.0] {
        for seed in 0..TRIALS {
            if let Some(bytes) = heard(&in_noise(&burst, snr_db, 500, 1_000 + seed)) {
                assert_eq!(bytes, token(), "misread at {snr_db} dB, seed {seed}");
                heard_whole += 1;
            }
        }
    }
    // Not a bound to meet, only a sign that the sweep reaches where decoding starts to fail.
    assert!(heard_whole < 5 * TRIALS, "every noisy burst was heard: the sweep is too gentle");
}

#[test]
fn a_quieter_burst_is_heard_as_long_as_it_stands_above_the_noise() {
    let burst = encode(&token()).unwrap();
    for gain in [0.5, 0.1, 0.02] {
        let quiet = scaled(&burst, gain);
        assert_eq!(heard(&quiet), Some(token()), "gain {gain}");
        assert_eq!(heard(&in_noise(&quiet, 0.0, 300, 7)), Some(token()), "gain {gain} in noise");
    }
}

#[test]
fn a_clipped_or_cut_burst_is_mended_whole_or_gives_nothing() {
    let burst = encode(&token()).unwrap();
    // A short gap is within the error correction's reach: the token comes back whole.
    for (from, to) in GAPS_MENDED {
        assert_eq!(heard(&clipped(&burst, from, to)), Some(token()), "{from}–{to} silenced");
    }
    // A longer one may or may not be: whole, or nothing.
    for (from, to) in GAPS_MAYBE {
        let damaged = heard(&clipped(&burst, from, to));
        assert!(damaged.is_none() || damaged == Some(token()), "misread with {from}–{to} silenced");
    }
    // Beyond it, or with the start or end marker gone: nothing.
    for (from, to) in [(0.7, 1.0), (0.0, 0.4), (0.2, 0.6)] {
        assert_eq!(heard(&clipped(&burst, from, to)), None, "silenced from {from} to {to}");
    }
    let cut = Waveform {
        sample_rate: burst.sample_rate,
        samples: burst.samples[..burst.samples.len() * 2 / 3].to_vec(),
    };
    assert_eq!(heard(&cut), None);
    for seed in 0..TRIALS {
        let noise_alone = room(burst.sample_rate, 5, 3_000.0, seed);
        assert_eq!(heard(&noise_alone), None, "noise alone, seed {seed}");
    }
}

#[test]
fn a_phone_recording_at_44_1_khz_is_heard_through_the_resampler() {
    let burst = encode(&token()).unwrap();
    let phone = resampled(&burst, 44_100);
    assert_eq!(heard(&phone), Some(token()));
    for seed in 0..TRIALS {
        assert_eq!(heard(&in_noise(&phone, -3.0, 400, 300 + seed)), Some(token()), "seed {seed}");
    }
    assert_eq!(heard(&resampled(&burst, 96_000)), Some(token()));
}

#[test]
fn a_burst_heard_twice_in_one_recording_gives_the_first() {
    let burst = encode(&token()).unwrap();
    let other = encode(&[9; 84]).unwrap();
    let both = Waveform {
        sample_rate: burst.sample_rate,
        samples: burst
            .samples
            .iter()
            .chain(&vec![0; 24_000])
            .chain(&other.samples)
            .copied()
            .collect(),
    };
    assert_eq!(heard(&both), Some(token()));
}
