/* command_ids.c: what commands need of chance: the retry backoff's random numbers
 * and the command ids made up when the caller gives none (command_ids.h). Kept
 * out of aggregate.c, which decides and appends. */
#include "command_ids.h"

#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* Writers that collide on a stream must not wait the same times, or they collide
 * again: rand() unseeded gives every process the same sequence. Each thread (the
 * workbench's threads too) gets its own splitmix64 state, seeded from the process
 * id, the clock in nanoseconds and the state's own address. */

static _Thread_local uint64_t backoff_state;

uint64_t backoff_random(void)
{
    if (backoff_state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        backoff_state = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec * 1000000000u ^
                        (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&backoff_state;
        if (backoff_state == 0)
            backoff_state = 1;
    }
    uint64_t z = (backoff_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

char *make_command_id(void)
{
    /* Unique enough to tell commands apart in metadata: time, pid and a counter,
     * mixed. Idempotency needs an id the caller chose (--id), not this one. */
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t h = HASH_FNV_INIT;
    uint64_t parts[4] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid(), ++counter};
    h = hash_fnv1a(h, parts, sizeof parts);
    return xasprintf("c-%016llx", (unsigned long long)h);
}
