/* fuzz_domain.c: libFuzzer target for the domain loader (domain_load_buffer):
 * any bytes must give either a domain or a list of problems, never a crash, a
 * leak, undefined behaviour or a hang (YAML hazards, alias bombs, hostile
 * expressions). Build with clang -fsanitize=fuzzer,address,undefined; seed it with
 * domains/ and tests/domains/bad/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag_list dl;
    diag_list_init(&dl);
    struct domain *d = domain_load_buffer("fuzz.yaml", (const char *)data, size, &dl);
    /* A loaded domain has no problems; a refused one says why. */
    if ((d != NULL) == (dl.len != 0))
        abort();
    for (size_t i = 0; i < dl.len; i++)
        if (!dl.items[i].message[0])
            abort();
    domain_free(d);
    diag_list_done(&dl);
    return 0;
}
