//! Pay by sound: the signed payment token as a short burst of audible tones.
//!
//! The counter plays the very token its QR code carries (84 bytes, binary), so an offline
//! counter stays payable by sound as by QR; the phone hears it, writes it as base64url and
//! opens the same pay page, where the server checks the signature. A misheard token can
//! therefore never pay anything: it fails its signature (see `tillfund-core`'s
//! `payment_token` tests), and ggwave's Reed-Solomon code makes a damaged burst decode to
//! nothing rather than to other bytes (measured in `tests/noise.rs`).
//!
//! ggwave ("data over sound", MIT) does the modulation: the counter encodes with its C++ core
//! through `ggwave-rs`, the phone decodes with the same sources compiled to WebAssembly
//! (`wasm/`). `decode` here runs that decoder natively, for tests and the benchmark.
//!
//! One file per idea: `wav.rs` (the RIFF container), `noise.rs` (seeded noise and gain for
//! the robustness tests).

pub mod noise;
mod wav;

use std::sync::Mutex;

use ggwave_rs::{GgWave, Parameters, ProtocolId, SampleFormat};
pub use wav::{WavError, Waveform};

/// Samples per second of every burst. The phone's decoder resamples what it hears to this.
pub const SAMPLE_RATE: u32 = 48_000;
/// The rates a recording may have: ggwave resamples from 1 kHz to 96 kHz; phones record at
/// 44.1 or 48 kHz, and an 8 kHz telephone line cannot carry the audible protocols' tones.
pub const RECORDING_RATES: std::ops::RangeInclusive<u32> = 16_000..=96_000;
/// The longest payload: ggwave's variable-length limit. Longer payloads would be silently
/// truncated by the C core, so they are refused here.
pub const PAYLOAD_LENGTH_MAX: usize = 140;
/// The shortest of ggwave's audible modes: about 3.2 s for a payment token.
const PROTOCOL: ProtocolId = ProtocolId::GGWAVE_PROTOCOL_AUDIBLE_FASTEST;
/// The protocols a decoder listens for: the three audible ones (never the ultrasound or
/// mono-tone ones a counter does not use, which only add ways to mishear).
const PROTOCOLS_HEARD: [ProtocolId; 3] = [
    ProtocolId::GGWAVE_PROTOCOL_AUDIBLE_NORMAL,
    ProtocolId::GGWAVE_PROTOCOL_AUDIBLE_FAST,
    ProtocolId::GGWAVE_PROTOCOL_AUDIBLE_FASTEST,
];
/// The protocols never listened for.
const PROTOCOLS_IGNORED: [ProtocolId; 9] = [
    ProtocolId::GGWAVE_PROTOCOL_ULTRASOUND_NORMAL,
    ProtocolId::GGWAVE_PROTOCOL_ULTRASOUND_FAST,
    ProtocolId::GGWAVE_PROTOCOL_ULTRASOUND_FASTEST,
    ProtocolId::GGWAVE_PROTOCOL_DT_NORMAL,
    ProtocolId::GGWAVE_PROTOCOL_DT_FAST,
    ProtocolId::GGWAVE_PROTOCOL_DT_FASTEST,
    ProtocolId::GGWAVE_PROTOCOL_MT_NORMAL,
    ProtocolId::GGWAVE_PROTOCOL_MT_FAST,
    ProtocolId::GGWAVE_PROTOCOL_MT_FASTEST,
];
/// ggwave's volume scale (0–100). Half leaves head room: the burst peaks near −6 dBFS.
const VOLUME: i32 = 50;
/// What the decoder is fed at a time, as the Listen page feeds it from the microphone.
const DECODE_CHUNK_SAMPLES: usize = 4096;
/// A recording longer than this is not one listening (a minute at 96 kHz): refused before
/// decoding.
pub const RECORDING_SAMPLES_MAX: usize = 60 * 96_000;

/// ggwave's C core keeps its instances in a global table without a lock, and its protocol
/// switches are global too: every use goes through this one lock.
static GGWAVE: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoundError {
    #[error("nothing to send")]
    Empty,
    #[error("{0} bytes is longer than a sound burst carries ({PAYLOAD_LENGTH_MAX})")]
    TooLong(usize),
    #[error("a recording at {0} Hz cannot be decoded (16 to 96 kHz)")]
    SampleRate(u32),
    #[error("a recording of {0} samples is longer than one listening")]
    RecordingTooLong(usize),
    /// ggwave refused (it has no finer report than the kind of call that failed).
    #[error("the sound library failed: {0}")]
    Library(String),
}

/// ggwave prints to stderr by default, the bytes of every payload heard among them: a
/// payment token has no business in a log. Called under the lock before each use.
#[allow(unsafe_code)]
fn quiet_library() {
    // SAFETY: sets the C core's global log stream to none; ggwave checks for null before
    // every print, and the caller holds `GGWAVE`, so no other call reads it meanwhile.
    unsafe { ggwave_rs::ffi::ggwave_setLogFile(std::ptr::null_mut()) };
}

fn parameters(operating_mode: i32, input_rate: u32) -> Parameters {
    let mut parameters = ggwave_rs::default_parameters();
    parameters.payloadLength = -1;
    parameters.sampleRateInp = input_rate as f32;
    parameters.sampleRateOut = SAMPLE_RATE as f32;
    parameters.sampleRate = SAMPLE_RATE as f32;
    parameters.sampleFormatInp = SampleFormat::GGWAVE_SAMPLE_FORMAT_I16;
    parameters.sampleFormatOut = SampleFormat::GGWAVE_SAMPLE_FORMAT_I16;
    parameters.operatingMode = operating_mode;
    parameters
}

/// The burst that carries `payload`: 16-bit mono at [`SAMPLE_RATE`].
pub fn encode(payload: &[u8]) -> Result<Waveform, SoundError> {
    if payload.is_empty() {
        return Err(SoundError::Empty);
    }
    if payload.len() > PAYLOAD_LENGTH_MAX {
        return Err(SoundError::TooLong(payload.len()));
    }
    let bytes = {
        let _only_user = GGWAVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        quiet_library();
        let instance = GgWave::new(parameters(ggwave_rs::GGWAVE_OPERATING_MODE_TX, SAMPLE_RATE))
            .map_err(|error| SoundError::Library(error.to_string()))?;
        instance
            .encode(payload, PROTOCOL, VOLUME)
            .map_err(|error| SoundError::Library(error.to_string()))?
    };
    let samples: Vec<i16> =
        bytes.chunks_exact(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect();
    assert!(!samples.is_empty(), "ggwave encoded {} bytes into no sound", payload.len());
    Ok(Waveform { sample_rate: SAMPLE_RATE, samples })
}

/// What a recording carries, fed to the decoder in microphone-sized chunks as the Listen
/// page does: the first payload heard, or `None` when nothing was heard whole. A recording
/// at another rate than [`SAMPLE_RATE`] goes through ggwave's resampler, as on a phone
/// whose audio runs at 44.1 kHz; longer than [`RECORDING_SAMPLES_MAX`] is refused.
pub fn decode(recording: &Waveform) -> Result<Option<Vec<u8>>, SoundError> {
    if !RECORDING_RATES.contains(&recording.sample_rate) {
        return Err(SoundError::SampleRate(recording.sample_rate));
    }
    if recording.samples.len() > RECORDING_SAMPLES_MAX {
        return Err(SoundError::RecordingTooLong(recording.samples.len()));
    }
    let _only_user = GGWAVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    quiet_library();
    for protocol in PROTOCOLS_HEARD {
        ggwave_rs::set_rx_protocol_enabled(protocol, true);
    }
    for protocol in PROTOCOLS_IGNORED {
        ggwave_rs::set_rx_protocol_enabled(protocol, false);
    }
    let instance =
        GgWave::new(parameters(ggwave_rs::GGWAVE_OPERATING_MODE_RX, recording.sample_rate))
            .map_err(|error| SoundError::Library(error.to_string()))?;
    for chunk in recording.samples.chunks(DECODE_CHUNK_SAMPLES) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|sample| sample.to_le_bytes()).collect();
        match instance.decode(&bytes) {
            Ok(Some(payload)) if !payload.is_empty() => return Ok(Some(payload)),
            // A burst whose error correction failed: nothing heard, listen on.
            Ok(_) | Err(ggwave_rs::Error::DecodeFailed) => {}
            Err(error) => return Err(SoundError::Library(error.to_string())),
        }
    }
    Ok(None)
}

/// How long a waveform plays, in milliseconds.
pub fn burst_duration_ms(waveform: &Waveform) -> u64 {
    waveform.samples.len() as u64 * 1000 / u64::from(waveform.sample_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_token_sized_payload_comes_back_whole() {
        let payload: Vec<u8> = (0..84_u8).map(|byte| byte.wrapping_mul(37)).collect();
        let waveform = encode(&payload).unwrap();
        let seconds = waveform.samples.len() as f64 / f64::from(SAMPLE_RATE);
        assert!((2.5..4.5).contains(&seconds), "burst of {seconds} s");
        let peak = waveform.samples.iter().map(|sample| sample.unsigned_abs()).max().unwrap();
        assert!(peak < i16::MAX as u16, "the burst clips: peak {peak}");
        assert_eq!(decode(&waveform).unwrap(), Some(payload));
    }

    #[test]
    fn payloads_are_bounded_and_never_truncated() {
        assert_eq!(encode(&[]), Err(SoundError::Empty));
        assert_eq!(encode(&[7; PAYLOAD_LENGTH_MAX + 1]), Err(SoundError::TooLong(141)));
        let longest = vec![0xA5; PAYLOAD_LENGTH_MAX];
        assert_eq!(decode(&encode(&longest).unwrap()).unwrap(), Some(longest));
    }

    #[test]
    fn silence_carries_nothing_and_rates_and_lengths_are_bounded() {
        let silence = Waveform { sample_rate: SAMPLE_RATE, samples: vec![0; SAMPLE_RATE as usize] };
        assert_eq!(decode(&silence).unwrap(), None);
        for rate in [0, 8_000, 192_000] {
            let other_rate = Waveform { sample_rate: rate, samples: vec![0; 100] };
            assert_eq!(decode(&other_rate), Err(SoundError::SampleRate(rate)));
        }
        let long =
            Waveform { sample_rate: SAMPLE_RATE, samples: vec![0; RECORDING_SAMPLES_MAX + 1] };
        assert_eq!(decode(&long), Err(SoundError::RecordingTooLong(RECORDING_SAMPLES_MAX + 1)));
    }

    #[test]
    fn bursts_made_on_many_threads_at_once_are_all_whole() {
        let threads: Vec<_> = (0..8_u8)
            .map(|index| std::thread::spawn(move || encode(&[index; 84]).map(|w| (index, w))))
            .collect();
        for thread in threads {
            let (index, waveform) = thread.join().unwrap().unwrap();
            assert_eq!(decode(&waveform).unwrap(), Some(vec![index; 84]));
        }
    }
}
