/* Reads lines from stdin, sorts them with qsort, prints them with their
 * count; exits 3 on an empty input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(void) {
    size_t count = 0, cap = 16;
    char **lines = malloc(cap * sizeof *lines);
    char buf[4096];
    while (fgets(buf, sizeof buf, stdin)) {
        buf[strcspn(buf, "\n")] = 0;
        if (count == cap) {
            cap *= 2;
            lines = realloc(lines, cap * sizeof *lines);
        }
        lines[count++] = strdup(buf);
    }
    if (count == 0) {
        fprintf(stderr, "sort: no input\n");
        return 3;
    }
    qsort(lines, count, sizeof *lines, compare);
    for (size_t i = 0; i < count; i++) {
        printf("%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    fprintf(stderr, "sorted %zu lines\n", count);
    return 0;
}
