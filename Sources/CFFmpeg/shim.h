#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/error.h>
#include <libavutil/channel_layout.h>

// AVERROR(e) and friends are macros Swift cannot import; these inline wrappers expose them.
static inline int pw_averror(int e) { return AVERROR(e); }
static inline int pw_averror_eof(void) { return AVERROR_EOF; }
static inline int pw_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int64_t pw_av_nopts_value(void) { return AV_NOPTS_VALUE; }

// Further macro and side-data wrappers used by the Video module.
static inline AVRational pw_av_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int pw_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int pw_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
/// Rotation (degrees, counter-clockwise as libavutil reports it) of a stream's display matrix, or NAN when none.
static inline double pw_stream_display_rotation(const AVStream *st) {
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!m || size < 9 * sizeof(int32_t)) return NAN;
    return av_display_rotation_get((const int32_t *)m);
}

// FFmpeg's log: keep the last error-level message (so our errors can say *why*, e.g. "moov atom not
// found") and print only messages at or above a chosen level (quiet by default: the caller reports).
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
// Storage lives in function-local statics: a header-only module cannot define global variables.
static inline char *pw_last_log_buffer(void) { static _Thread_local char buffer[512]; return buffer; }
static inline int *pw_log_print_level(void) { static int level = AV_LOG_QUIET; return &level; }
static inline void pw_log_callback(void *avcl, int level, const char *fmt, va_list vl) {
    if (level <= AV_LOG_ERROR) {
        char *message = pw_last_log_buffer();
        va_list copy;
        va_copy(copy, vl);
        vsnprintf(message, 512, fmt, copy);
        va_end(copy);
        size_t n = strlen(message);
        while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == ' ')) message[--n] = 0;
    }
    if (level <= *pw_log_print_level()) av_log_default_callback(avcl, level, fmt, vl);
}
/// Routes FFmpeg's log through pw_log_callback, printing messages at or above `print_level`.
static inline void pw_log_install(int print_level) {
    *pw_log_print_level() = print_level;
    av_log_set_level(AV_LOG_ERROR > print_level ? AV_LOG_ERROR : print_level);
    av_log_set_callback(pw_log_callback);
}
static inline const char *pw_log_last(void) { return pw_last_log_buffer(); }
static inline void pw_log_clear(void) { pw_last_log_buffer()[0] = 0; }
