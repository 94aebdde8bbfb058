// Video: FFmpeg decoding and encoding, and skeleton overlay rendering.
