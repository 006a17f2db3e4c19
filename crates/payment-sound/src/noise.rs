//! Seeded noise and gain: how the robustness tests and the benchmark make a quiet or noisy
//! room out of a clean burst, the same way on every run.

use crate::Waveform;

/// A small seeded generator (SplitMix64): the same seed gives the same noise everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1_u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The mean power of the non-silent part of a waveform.
pub fn signal_power(waveform: &Waveform) -> f64 {
    let loud: Vec<f64> =
        waveform.samples.iter().filter(|s| **s != 0).map(|s| f64::from(*s)).collect();
    if loud.is_empty() {
        return 0.0;
    }
    loud.iter().map(|s| s * s).sum::<f64>() / loud.len() as f64
}

/// `waveform` with `lead_ms` of room noise before and after, and white Gaussian noise over
/// all of it at `snr_db` below the burst's power; clipped to 16 bits as a microphone would.
pub fn in_noise(waveform: &Waveform, snr_db: f64, lead_ms: u32, seed: u64) -> Waveform {
    let lead = (u64::from(waveform.sample_rate) * u64::from(lead_ms) / 1000) as usize;
    let sigma = (signal_power(waveform) / 10_f64.powf(snr_db / 10.0)).sqrt();
    let mut random = SplitMix64(seed);
    let clean = std::iter::repeat_n(0, lead)
        .chain(waveform.samples.iter().copied())
        .chain(std::iter::repeat_n(0, lead));
    let samples = clean
        .map(|sample| {
            let noisy = f64::from(sample) + sigma * random.normal();
            noisy.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
        })
        .collect();
    Waveform { sample_rate: waveform.sample_rate, samples }
}

/// A room with no burst in it: `seconds` of white noise at `rms` (16-bit units).
pub fn room(sample_rate: u32, seconds: u32, rms: f64, seed: u64) -> Waveform {
    let mut random = SplitMix64(seed);
    let samples = (0..u64::from(sample_rate) * u64::from(seconds))
        .map(|_| {
            (rms * random.normal()).round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
        })
        .collect();
    Waveform { sample_rate, samples }
}

/// `waveform` at another sample rate (linear interpolation): what a phone whose audio runs
/// at 44.1 kHz records of a 48 kHz burst.
pub fn resampled(waveform: &Waveform, rate: u32) -> Waveform {
    assert!(rate > 0 && waveform.sample_rate > 0, "rates are positive");
    let step = f64::from(waveform.sample_rate) / f64::from(rate);
    let length = (waveform.samples.len() as f64 / step) as usize;
    let samples = (0..length)
        .map(|index| {
            let position = index as f64 * step;
            let before = position.floor() as usize;
            let after = (before + 1).min(waveform.samples.len() - 1);
            let fraction = position - before as f64;
            let value = f64::from(waveform.samples[before]) * (1.0 - fraction)
                + f64::from(waveform.samples[after]) * fraction;
            value.round() as i16
        })
        .collect();
    Waveform { sample_rate: rate, samples }
}

/// `waveform` at `gain` (0.1 is 20 dB quieter).
pub fn scaled(waveform: &Waveform, gain: f64) -> Waveform {
    let samples = waveform
        .samples
        .iter()
        .map(|s| {
            (f64::from(*s) * gain).round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
        })
        .collect();
    Waveform { sample_rate: waveform.sample_rate, samples }
}

/// `waveform` with the samples from `from` to `to` (fractions of its length) silenced: a
/// burst cut by a door, a cough or the end of the recording.
pub fn clipped(waveform: &Waveform, from: f64, to: f64) -> Waveform {
    let length = waveform.samples.len() as f64;
    let (start, end) = ((length * from) as usize, (length * to) as usize);
    let mut samples = waveform.samples.clone();
    for sample in samples.iter_mut().take(end).skip(start) {
        *sample = 0;
    }
    Waveform { sample_rate: waveform.sample_rate, samples }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_noise_has_the_power_asked_for() {
        let tone = Waveform {
            sample_rate: 48_000,
            samples: (0..48_000).map(|i| ((i as f64 / 10.0).sin() * 8000.0) as i16).collect(),
        };
        let noisy = in_noise(&tone, 0.0, 0, 1);
        let noise = Waveform {
            sample_rate: 48_000,
            samples: noisy.samples.iter().zip(&tone.samples).map(|(n, t)| n - t).collect(),
        };
        let ratio = signal_power(&noise) / signal_power(&tone);
        assert!((0.95..1.05).contains(&ratio), "noise at {ratio} of the signal");
        assert_eq!(in_noise(&tone, 3.0, 100, 9), in_noise(&tone, 3.0, 100, 9));
    }
}
