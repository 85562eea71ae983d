/* Hashes stdin: FNV-1a 64 and a CRC-32, read in odd-sized chunks. */
#include <stdint.h>
#include <stdio.h>

int main(void) {
    uint64_t fnv = 0xcbf29ce484222325ull;
    uint32_t crc = 0xffffffffu;
    uint64_t total = 0;
    unsigned char buf[777];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) {
            fnv = (fnv ^ buf[i]) * 0x100000001b3ull;
            crc ^= buf[i];
            for (int k = 0; k < 8; k++) {
                crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
            }
        }
        total += n;
    }
    printf("bytes %llu fnv1a64 %016llx crc32 %08x\n", (unsigned long long)total,
           (unsigned long long)fnv, crc ^ 0xffffffffu);
    return 0;
}
