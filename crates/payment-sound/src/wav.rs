//! A waveform and its WAV file: 16-bit PCM, mono. The counter hands the window this file (it
//! plays it) and writes it where asked (`TILLFUND_SOUND_CAPTURE_DIR`); tests feed it to
//! Chromium's fake microphone.

/// Bytes of the RIFF header written before the samples.
const HEADER_LENGTH: usize = 44;

/// Mono 16-bit samples at a rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waveform {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    #[error("not a WAV file this reader knows: {0}")]
    Unsupported(&'static str),
}

impl Waveform {
    /// The canonical 44-byte RIFF/WAVE header, then the samples little-endian.
    pub fn to_wav(&self) -> Vec<u8> {
        let data_length = u32::try_from(self.samples.len() * 2).unwrap_or(u32::MAX - 64);
        let mut wav = Vec::with_capacity(HEADER_LENGTH + self.samples.len() * 2);
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data_length).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16_u32.to_le_bytes()); // format chunk length
        wav.extend_from_slice(&1_u16.to_le_bytes()); // PCM
        wav.extend_from_slice(&1_u16.to_le_bytes()); // mono
        wav.extend_from_slice(&self.sample_rate.to_le_bytes());
        wav.extend_from_slice(&(self.sample_rate * 2).to_le_bytes()); // bytes per second
        wav.extend_from_slice(&2_u16.to_le_bytes()); // bytes per frame
        wav.extend_from_slice(&16_u16.to_le_bytes()); // bits per sample
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&data_length.to_le_bytes());
        for sample in &self.samples {
            wav.extend_from_slice(&sample.to_le_bytes());
        }
        wav
    }

    /// Reads a mono 16-bit PCM WAV file, skipping chunks other than `fmt ` and `data`.
    pub fn from_wav(bytes: &[u8]) -> Result<Waveform, WavError> {
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(WavError::Unsupported("no RIFF/WAVE header"));
        }
        let mut sample_rate = None;
        let mut rest = &bytes[12..];
        while rest.len() >= 8 {
            let id = &rest[..4];
            let length = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
            let body = rest.get(8..8 + length).ok_or(WavError::Unsupported("truncated chunk"))?;
            match id {
                b"fmt " => {
                    if body.len() < 16 {
                        return Err(WavError::Unsupported("short format chunk"));
                    }
                    let format = u16::from_le_bytes([body[0], body[1]]);
                    let channels = u16::from_le_bytes([body[2], body[3]]);
                    let bits = u16::from_le_bytes([body[14], body[15]]);
                    if format != 1 || channels != 1 || bits != 16 {
                        return Err(WavError::Unsupported("only mono 16-bit PCM"));
                    }
                    sample_rate = Some(u32::from_le_bytes([body[4], body[5], body[6], body[7]]));
                }
                b"data" => {
                    let sample_rate =
                        sample_rate.ok_or(WavError::Unsupported("data before format"))?;
                    let samples = body
                        .chunks_exact(2)
                        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                        .collect();
                    return Ok(Waveform { sample_rate, samples });
                }
                _ => {}
            }
            // Chunks are padded to an even length.
            rest = rest.get(8 + length + length % 2..).unwrap_or(&[]);
        }
        Err(WavError::Unsupported("no data chunk"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waveform_survives_its_wav_file() {
        let waveform =
            Waveform { sample_rate: 48_000, samples: vec![0, 1, -1, i16::MAX, i16::MIN] };
        let wav = waveform.to_wav();
        assert_eq!(wav.len(), HEADER_LENGTH + 10);
        assert_eq!(Waveform::from_wav(&wav), Ok(waveform));
    }

    #[test]
    fn files_it_cannot_read_are_refused_not_misread() {
        let good = Waveform { sample_rate: 48_000, samples: vec![5; 8] }.to_wav();
        for cut in [0, 4, 11, 20, 43] {
            assert!(Waveform::from_wav(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut stereo = good.clone();
        stereo[22] = 2;
        assert!(Waveform::from_wav(&stereo).is_err());
    }
}
