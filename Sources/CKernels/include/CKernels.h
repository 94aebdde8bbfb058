#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
// Vectorised float32 inner loops for Engine. Owned by Engine; see Sources/Engine.
#endif
