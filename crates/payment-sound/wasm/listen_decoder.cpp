// The Listen page's decoder: ggwave's C++ core (the sources `ggwave-rs` vendors, the same the
// counter encodes with) behind four plain exports, compiled to WebAssembly by build.sh with
// no C++ runtime, so the page loads it under a CSP without 'unsafe-eval'. Its only imports
// are three WASI file calls wasi-libc's stdio links in; with logging compiled out nothing
// calls them, and the page answers them with ENOSYS.

#include "ggwave/ggwave.h"

#include <stdlib.h>

// ggwave allocates with new/delete; without a C++ runtime they are malloc and free.
void * operator new(size_t size) { return malloc(size); }
void * operator new[](size_t size) { return malloc(size); }
void operator delete(void * pointer) noexcept { free(pointer); }
void operator delete[](void * pointer) noexcept { free(pointer); }
void operator delete(void * pointer, size_t) noexcept { free(pointer); }
void operator delete[](void * pointer, size_t) noexcept { free(pointer); }

#define EXPORT(name) __attribute__((export_name(name)))

extern "C" {

// A receiver for 32-bit float samples at `sample_rate` (the page's AudioContext rate; ggwave
// resamples to 48 kHz), listening for the three audible protocols only. Returns the
// instance, or a negative number.
EXPORT("listen_init") int listen_init(float sample_rate) {
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_AUDIBLE_NORMAL, 1);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_AUDIBLE_FAST, 1);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_AUDIBLE_FASTEST, 1);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_ULTRASOUND_NORMAL, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_ULTRASOUND_FAST, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_ULTRASOUND_FASTEST, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_DT_NORMAL, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_DT_FAST, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_DT_FASTEST, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_MT_NORMAL, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_MT_FAST, 0);
    ggwave_rxToggleProtocol(GGWAVE_PROTOCOL_MT_FASTEST, 0);
    ggwave_Parameters parameters = ggwave_getDefaultParameters();
    parameters.payloadLength = -1;
    parameters.sampleRateInp = sample_rate;
    parameters.sampleFormatInp = GGWAVE_SAMPLE_FORMAT_F32;
    parameters.operatingMode = GGWAVE_OPERATING_MODE_RX;
    return ggwave_init(parameters);
}

// Feeds `sample_count` samples; returns the payload's length once one is heard whole
// (written to `payload`, at most `payload_capacity` bytes), 0 while listening, -1 when a
// burst was heard but failed its error correction, -2 when the payload does not fit.
EXPORT("listen_decode")
int listen_decode(int instance, const float * samples, int sample_count, char * payload, int payload_capacity) {
    return ggwave_ndecode(instance, samples, sample_count * (int) sizeof(float), payload, payload_capacity);
}

EXPORT("listen_free") void listen_free(int instance) { ggwave_free(instance); }

// The page's two buffers (samples in, payload out), made once per listening; the module is
// dropped with the page.
EXPORT("listen_alloc") void * listen_alloc(int size) { return malloc((size_t) size); }

}
