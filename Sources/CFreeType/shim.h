#include <ft2build.h>
#include FT_FREETYPE_H

// Load flags are macro expressions Swift does not import; this wrapper exposes the one in use:
// rasterise to an 8-bit coverage bitmap with FreeType's light hinting (vertical only, keeps glyph
// shapes and spacing at small sizes).
static inline FT_Int32 pw_ft_load_render_light(void) { return FT_LOAD_RENDER | FT_LOAD_TARGET_LIGHT; }
