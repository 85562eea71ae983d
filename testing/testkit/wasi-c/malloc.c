/* Heavy malloc/free: 20,000 allocations of pseudo-random sizes in a
 * window of 512 live blocks, each filled and checked before it is freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    enum { LIVE = 512, ROUNDS = 20000 };
    unsigned char *blocks[LIVE] = {0};
    size_t sizes[LIVE] = {0};
    uint64_t state = 88172645463325252ull, sum = 0;
    for (int round = 0; round < ROUNDS; round++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        int slot = (int)(state % LIVE);
        if (blocks[slot]) {
            for (size_t i = 0; i < sizes[slot]; i++) {
                if (blocks[slot][i] != (unsigned char)(slot + i)) {
                    printf("corrupt block %d\n", slot);
                    return 1;
                }
            }
            sum += sizes[slot];
            free(blocks[slot]);
        }
        sizes[slot] = (size_t)((state >> 20) % ((state & 7) == 0 ? 8192 : 256)) + 1;
        blocks[slot] = malloc(sizes[slot]);
        if (!blocks[slot]) {
            printf("out of memory at round %d\n", round);
            return 2;
        }
        for (size_t i = 0; i < sizes[slot]; i++) {
            blocks[slot][i] = (unsigned char)(slot + i);
        }
    }
    for (int slot = 0; slot < LIVE; slot++) {
        free(blocks[slot]);
    }
    printf("freed %llu bytes in %d rounds\n", (unsigned long long)sum, ROUNDS);
    return 0;
}
