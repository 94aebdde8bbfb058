// The engine's worker threads: one parallel loop at a time, handed out to workers that spin briefly
// between loops before sleeping.
//
// Why not Dispatch's concurrentPerform: waking a parked worker costs tens of microseconds, and a
// convolution runs several parallel phases (transforms, products, epilogue) of a few hundred
// microseconds each, so at 2 threads the HRNet backbones kept only 1.5–1.75 cores busy. OpenMP,
// which PyTorch uses, spins between parallel regions for the same reason. The spin is bounded (a
// worker that finds no loop within PW_POOL_SPIN_NS sleeps), so an idle engine costs nothing.
//
// Chunks are claimed in any order by any thread; a loop's results never depend on which thread ran a
// chunk, so they are the same bits as the serial loop.
#include "CKernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PW_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define PW_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define PW_CPU_RELAX() ((void)0)
#endif

/// How long a worker keeps polling for the next loop before it sleeps.
#define PW_POOL_SPIN_NS 200000
#define PW_POOL_MAX_WORKERS 255

// state = generation << 32 | chunks << 16 | next chunk: one word, so a claim can never pair one
// loop's chunk index with another loop's count.
static _Atomic uint64_t pool_state;
static atomic_int pool_done;
static atomic_int pool_busy;
static atomic_int pool_sleepers;
static pw_chunk_fn pool_fn;   // written before a generation is published, read after a claim
static void *pool_ctx;
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static atomic_int pool_workers;  // started so far (incremented under pool_mutex)

static inline uint32_t state_generation(uint64_t s) { return (uint32_t)(s >> 32); }
static inline int state_chunks(uint64_t s) { return (int)((s >> 16) & 0xffff); }
static inline int state_next(uint64_t s) { return (int)(s & 0xffff); }

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/// Runs chunks of generation g until none is left to claim.
static void run_claims(uint32_t g) {
    uint64_t s = atomic_load(&pool_state);
    for (;;) {
        if (state_generation(s) != g || state_next(s) >= state_chunks(s)) return;
        if (atomic_compare_exchange_weak(&pool_state, &s, s + 1)) {
            pool_fn(pool_ctx, state_next(s));
            atomic_fetch_add_explicit(&pool_done, 1, memory_order_release);
            s = atomic_load(&pool_state);
        }
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    // A worker started for a loop already published joins it (run_claims finds nothing to do when it
    // has finished).
    uint32_t seen = state_generation(atomic_load(&pool_state));
    run_claims(seen);
    for (;;) {
        uint64_t s = atomic_load_explicit(&pool_state, memory_order_acquire);
        if (state_generation(s) == seen) {
            uint64_t start = now_ns();
            unsigned spins = 0;
            while (state_generation(s = atomic_load_explicit(&pool_state, memory_order_acquire)) == seen) {
                PW_CPU_RELAX();
                if ((++spins & 255) == 0 && now_ns() - start > PW_POOL_SPIN_NS) {
                    pthread_mutex_lock(&pool_mutex);
                    atomic_fetch_add(&pool_sleepers, 1);
                    while (state_generation(s = atomic_load(&pool_state)) == seen)
                        pthread_cond_wait(&pool_wake, &pool_mutex);
                    atomic_fetch_sub(&pool_sleepers, 1);
                    pthread_mutex_unlock(&pool_mutex);
                    break;
                }
            }
        }
        seen = state_generation(s);
        run_claims(seen);
    }
    return NULL;
}

/// Starts workers until `count` exist (never more than PW_POOL_MAX_WORKERS); returns how many exist.
static int ensure_workers(int count) {
    if (count > PW_POOL_MAX_WORKERS) count = PW_POOL_MAX_WORKERS;
    // Every loop asks: once they exist, answer without the mutex sleeping workers wait on.
    int started = atomic_load(&pool_workers);
    if (started >= count) return started;
    pthread_mutex_lock(&pool_mutex);
    while (pool_workers < count) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&t, &attr, worker_main, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool_workers++;
    }
    int n = atomic_load(&pool_workers);
    pthread_mutex_unlock(&pool_mutex);
    return n;
}

void pw_pool_run(int threads, int chunks, pw_chunk_fn fn, void *ctx) {
    // One loop at a time: a loop started from inside a chunk, or while another thread's loop is in
    // flight, runs on its caller alone.
    if (chunks <= 1 || threads <= 1 || chunks > 0xffff || ensure_workers(threads - 1) == 0 ||
        atomic_exchange(&pool_busy, 1)) {
        for (int i = 0; i < chunks; i++) fn(ctx, i);
        return;
    }
    pool_fn = fn;
    pool_ctx = ctx;
    atomic_store(&pool_done, 0);
    uint32_t g = state_generation(atomic_load(&pool_state)) + 1;
    atomic_store(&pool_state, ((uint64_t)g << 32) | ((uint64_t)chunks << 16));
    // Sequentially consistent store then load, against the worker's increment then load: either the
    // worker sees the new generation before it waits, or this sees it sleeping and wakes it.
    if (atomic_load(&pool_sleepers) > 0) {
        pthread_mutex_lock(&pool_mutex);
        pthread_cond_broadcast(&pool_wake);
        pthread_mutex_unlock(&pool_mutex);
    }
    run_claims(g);
    unsigned spins = 0;
    while (atomic_load_explicit(&pool_done, memory_order_acquire) < chunks) {
        if (++spins < 4096) PW_CPU_RELAX(); else sched_yield();
    }
    atomic_store(&pool_busy, 0);
}
