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
